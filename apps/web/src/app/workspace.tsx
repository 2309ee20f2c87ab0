import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import type { Me } from '@medseal/contract';
import { isApiError } from '../api/errors';
import type { KeyRef } from '../crypto/client';
import { EMPTY_CONTACTS, type ContactsDoc } from '../features/contacts/contactsModel';
import { loadContacts, saveContacts, type LoadedContacts } from '../features/contacts/contactsStore';
import { useLiveRecords, type LiveRecords } from '../features/records/live';
import { summarizeRecord, type RecordDeps } from '../features/records/recordService';
import { SummaryLoader } from '../features/records/summaryLoader';
import type { RecordRow } from '../features/records/RecordList';
import { KeyBook } from './keyBook';
import { useServices } from './services';

/**
 * Everything an unlocked session works with: the record dependencies (API, worker, my key,
 * the key book, my pinned contacts) and the per-tab summary cache for the list.
 */
interface Workspace {
  deps: RecordDeps;
  loader: SummaryLoader<RecordRow>;
  contacts: { loaded: LoadedContacts | undefined; error: unknown; update(change: (doc: ContactsDoc) => ContactsDoc): Promise<void> };
  live: LiveRecords;
}

const WorkspaceContext = createContext<Workspace | null>(null);

export function WorkspaceProvider({ user, keyRef, children }: { user: Me; keyRef: KeyRef; children: ReactNode }) {
  const { call, crypto, live: liveFeed } = useServices();
  const queryClient = useQueryClient();
  const live = useLiveRecords(liveFeed);
  const keyBook = useMemo(() => new KeyBook(call, crypto, user, keyRef), [call, crypto, user, keyRef]);
  const contactsQuery = useQuery({ queryKey: ['contacts', user.id], queryFn: () => loadContacts({ call, crypto, key: keyRef }), staleTime: Infinity });
  // A new contacts list makes new deps and a new loader: titles are re-checked against the new pins.
  const contactsDoc = contactsQuery.data?.doc ?? EMPTY_CONTACTS;
  const stamp = `${user.id}:${contactsQuery.data?.version ?? 0}`;
  const deps: RecordDeps = useMemo(() => ({ stamp, call, crypto, me: user, key: keyRef, keyBook, contacts: () => contactsDoc }), [stamp, call, crypto, user, keyRef, keyBook, contactsDoc]);
  const loader = useMemo(
    () =>
      new SummaryLoader<RecordRow>(async (row) => {
        if (!row.dto) return { status: 'error', message: 'record not loaded' };
        return summarizeRecord(deps, row.dto);
      }, 6),
    [deps],
  );

  const value: Workspace = useMemo(
    () => ({
      deps,
      loader,
      contacts: {
        loaded: contactsQuery.data,
        error: contactsQuery.error,
        async update(change) {
          for (let attempt = 0; ; attempt += 1) {
            const current = queryClient.getQueryData<LoadedContacts>(['contacts', user.id]) ?? (await loadContacts({ call, crypto, key: keyRef }));
            try {
              const saved = await saveContacts({ call, crypto, key: keyRef }, change(current.doc), current.version);
              queryClient.setQueryData(['contacts', user.id], saved);
              return;
            } catch (e) {
              // Another device saved first: reload and apply the change again.
              if (!isApiError(e, 'version-conflict') || attempt >= 2) throw e;
              queryClient.setQueryData(['contacts', user.id], await loadContacts({ call, crypto, key: keyRef }));
            }
          }
        },
      },
      live,
    }),
    [deps, loader, contactsQuery.data, contactsQuery.error, queryClient, user.id, call, crypto, keyRef, live],
  );
  if (contactsQuery.isPending) return <p aria-busy="true">Opening your contacts…</p>;
  return <WorkspaceContext.Provider value={value}>{children}</WorkspaceContext.Provider>;
}

export function useWorkspace(): Workspace {
  const w = useContext(WorkspaceContext);
  if (!w) throw new Error('useWorkspace outside WorkspaceProvider');
  return w;
}
