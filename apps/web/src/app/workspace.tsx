import {
  createContext,
  useContext,
  useEffect,
  useMemo,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints, type Me } from '@medseal/contract';
import type { KeyRef } from '../crypto/client';
import { contactsOf, pinsOf, type ContactsDoc } from '../features/contacts/contactsModel';
import { describeError, isUnavailable } from '../api/errors';
import { Banner, Button } from '../ui';
import { AccountStateBook, AccountStateError } from './accountState';
import { deviceHighWaterMarks } from './highWaterMarks';
import { useLiveRecords, type LiveRecords } from '../features/records/live';
import { summarizeRecord, type RecordDeps } from '../features/records/recordService';
import { SummaryLoader } from '../features/records/summaryLoader';
import type { RecordRow } from '../features/records/RecordList';
import { KeyBook } from './keyBook';
import { TeamBook } from '../features/teams/teamBook';
import type { RecordSearch } from '../features/search/client';
import { useServices } from './services';
import { KeyTransparency } from './transparency';
import { TransparencyAlerts } from './TransparencyAlerts';

/**
 * Everything an unlocked session works with: the record dependencies (API, worker, my key,
 * the key book, my pinned contacts) and the per-tab summary cache for the list.
 */
interface Workspace {
  deps: RecordDeps;
  loader: SummaryLoader<RecordRow>;
  /** The pinned keys of the account state, as the contacts pages and the key check read them. */
  contacts: {
    loaded: { doc: ContactsDoc; version: number };
    error: unknown;
    update(change: (doc: ContactsDoc) => ContactsDoc): Promise<void>;
  };
  live: LiveRecords;
  /** My decrypted records' search index; ended when the workspace closes (lock, logout). */
  search: RecordSearch;
}

const WorkspaceContext = createContext<Workspace | null>(null);

/**
 * For what a login loads or checks once: a server that did not answer (network, 5xx) is asked
 * again after 0.5, 1, 2, 4 and 8 s before the failure shows; any other failure shows at once.
 * One 503 under load must not stop a session or raise a security alert for all of it.
 */
const ASK_AGAIN_WHILE_UNAVAILABLE = {
  retry: (failures: number, error: Error) => isUnavailable(error) && failures < 5,
  retryDelay: (failures: number) => 500 * 2 ** failures,
};

/**
 * Opens the account state (DESIGN §12) before anything else: a missing, older or unverifiable
 * state is a security warning and nothing of the workspace is shown.
 */
export function WorkspaceProvider({
  user,
  keyRef,
  children,
}: {
  user: Me;
  keyRef: KeyRef;
  children: ReactNode;
}) {
  const { call, crypto } = useServices();
  const queryClient = useQueryClient();
  const stateDeps = useMemo(
    () => ({ call, crypto, user, key: keyRef, marks: deviceHighWaterMarks }),
    [call, crypto, user, keyRef],
  );
  const stateQuery = useQuery({
    queryKey: ['account-state', user.id, keyRef.handle],
    queryFn: () => AccountStateBook.load(stateDeps),
    staleTime: Infinity,
    ...ASK_AGAIN_WHILE_UNAVAILABLE,
  });
  const startOver = useMutation({
    mutationFn: () => AccountStateBook.startOver(stateDeps),
    onSuccess: (book) => queryClient.setQueryData(['account-state', user.id, keyRef.handle], book),
  });
  if (stateQuery.isPending) return <p aria-busy="true">Opening your account…</p>;
  if (stateQuery.isError) {
    const error = stateQuery.error;
    return (
      <Banner tone="bad" title="Security warning: Medseal stopped before showing anything.">
        <p>
          {error instanceof AccountStateError
            ? error.message
            : `Your account state could not be loaded: ${error.message}`}
        </p>
        {error instanceof AccountStateError && error.problem.status === 'missing' ? (
          <>
            <p>
              If you have never used Medseal on another device and know why it is missing, you can
              start a new, empty account state. Every person’s key will then be new to you: compare
              numbers with them again before you share.
            </p>
            <Button
              variant="secondary"
              disabled={startOver.isPending}
              onClick={() => startOver.mutate()}
            >
              Start a new account state
            </Button>
          </>
        ) : null}
        {startOver.isError ? <p>{startOver.error.message}</p> : null}
      </Banner>
    );
  }
  return (
    <OpenWorkspace user={user} keyRef={keyRef} book={stateQuery.data}>
      {children}
    </OpenWorkspace>
  );
}

function OpenWorkspace({
  user,
  keyRef,
  book,
  children,
}: {
  user: Me;
  keyRef: KeyRef;
  book: AccountStateBook;
  children: ReactNode;
}) {
  const { call, crypto, live: liveFeed, search: newSearch } = useServices();
  const live = useLiveRecords(liveFeed);
  const search = useMemo(() => newSearch(), [newSearch]);
  useEffect(() => () => search.close(), [search]);
  useEffect(() => book.keepSaving(), [book]);
  const transparency = useMemo(
    () =>
      new KeyTransparency({
        call,
        crypto,
        book,
        me: { userId: user.id, keyHandle: keyRef.handle },
      }),
    [call, crypto, book, user.id, keyRef.handle],
  );
  const keyBook = useMemo(
    () => new KeyBook(call, crypto, transparency, user, keyRef),
    [call, crypto, transparency, user, keyRef],
  );
  // Self-monitoring at each login (DESIGN §14): what it finds is shown by TransparencyAlerts.
  // When the server did not answer even when asked again, the alert below says so.
  const selfCheck = useQuery({
    queryKey: ['kt-own-bindings', user.id, keyRef.handle],
    queryFn: () => transparency.checkOwnBindings(),
    staleTime: Infinity,
    ...ASK_AGAIN_WHILE_UNAVAILABLE,
  });
  const teams = useMemo(
    () =>
      new TeamBook({
        call,
        crypto,
        me: user,
        key: keyRef,
        keyBook,
        transparency,
        accountState: book,
      }),
    [call, crypto, user, keyRef, keyBook, transparency, book],
  );
  // Self-monitoring of my teams at each login: a team key or membership in the log that is not in
  // a team's signed history is an alert (raised by the check; a team that fails is not used).
  const teamsCheck = useQuery({
    queryKey: ['kt-my-teams', user.id, keyRef.handle],
    queryFn: async () => {
      const { teams: mine } = await call(endpoints.listMyTeams, {});
      await Promise.allSettled(mine.map((t) => teams.team(t.id)));
      return mine.length;
    },
    staleTime: Infinity,
    ...ASK_AGAIN_WHILE_UNAVAILABLE,
  });
  const pins = useSyncExternalStore(
    (listener) => book.subscribe(listener),
    () => book.pins,
  );
  // New pins make new deps and a new loader: titles are re-checked against the new pins.
  const contactsDoc = useMemo(() => contactsOf(pins), [pins]);
  const pinsRevision = book.pinsRevision;
  const stamp = `${user.id}:${pinsRevision}`;
  const deps: RecordDeps = useMemo(
    () => ({
      stamp,
      call,
      crypto,
      me: user,
      key: keyRef,
      keyBook,
      transparency,
      accountState: book,
      contacts: () => contactsDoc,
      teams,
    }),
    [stamp, call, crypto, user, keyRef, keyBook, transparency, book, contactsDoc, teams],
  );
  const loader = useMemo(
    () =>
      new SummaryLoader<RecordRow>(async (row) => {
        if (!row.dto) return { status: 'error', message: 'record not loaded' };
        return summarizeRecord(deps, row.dto, search);
      }, 6),
    [deps, search],
  );

  const value: Workspace = useMemo(
    () => ({
      deps,
      loader,
      contacts: {
        loaded: { doc: contactsDoc, version: pinsRevision },
        error: null,
        update: (change) =>
          book.update((state) => ({ ...state, pins: pinsOf(change(contactsOf(state.pins))) })),
      },
      live,
      search,
    }),
    [deps, loader, contactsDoc, pinsRevision, book, live, search],
  );
  return (
    <WorkspaceContext.Provider value={value}>
      <TransparencyAlerts transparency={transparency} book={book} />
      <UnsavedSeen book={book} />
      {selfCheck.isPending || teamsCheck.isPending ? (
        <p aria-busy="true">
          Checking the public key log for keys and team memberships published in your name…
        </p>
      ) : null}
      {selfCheck.isError && !transparency.alerts.some((a) => a.kind === 'log-refused') ? (
        <Banner
          tone="bad"
          title="Security alert: your own entries in the public key log could not be checked."
        >
          {isUnavailable(selfCheck.error) ? (
            <>
              <p>
                {describeError(selfCheck.error)} Until this check runs, Medseal cannot tell whether
                someone published a key or a team membership in your name.
              </p>
              <Button variant="secondary" onClick={() => void selfCheck.refetch()}>
                Check again
              </Button>
            </>
          ) : (
            <p>
              The server’s answer about the keys and team memberships published for you did not
              check, so Medseal cannot tell whether someone published a key or a team membership in
              your name.
            </p>
          )}
        </Banner>
      ) : null}
      {children}
    </WorkspaceContext.Provider>
  );
}

/** A security warning while the versions of records verified here cannot be saved (the server refuses). */
function UnsavedSeen({ book }: { book: AccountStateBook }) {
  const failure = useSyncExternalStore(
    (listener) => book.subscribe(listener),
    () => book.unsavedSeen,
  );
  if (failure === null) return null;
  return (
    <Banner
      tone="bad"
      title="Security warning: Medseal could not save which versions of your records you have seen."
    >
      {describeError(failure)} Until it can, your other devices, and this one after a reload, cannot
      tell an older copy of the records you opened since from the current one. Medseal keeps trying.
    </Banner>
  );
}

export function useWorkspace(): Workspace {
  const w = useContext(WorkspaceContext);
  if (!w) throw new Error('useWorkspace outside WorkspaceProvider');
  return w;
}
