import { useQueries } from '@tanstack/react-query';
import { KeyNotProvenError } from '../../app/transparency';
import { useWorkspace } from '../../app/workspace';
import { fingerprintGroups } from '../sharing/Fingerprint';

function usePeople(ids: string[]) {
  const { deps } = useWorkspace();
  const unique = [...new Set(ids)];
  const results = useQueries({
    queries: unique.map((id) => ({
      queryKey: ['person', id],
      queryFn: () => deps.keyBook.get(id),
      staleTime: Infinity,
    })),
  });
  return { unique, results };
}

/**
 * Names of users by id: the name I pinned with their key, else the key book's (the directory's
 * say-so, cached for the tab). A pinned person keeps the name I knew them by whatever the
 * directory says today (DESIGN §12 "Keys").
 */
export function useNames(ids: string[]): Map<string, string> {
  const { deps } = useWorkspace();
  const { unique, results } = usePeople(ids);
  const names = new Map<string, string>();
  results.forEach((r, i) => {
    const id = unique[i];
    const name = id ? deps.accountState.nameOf(id, r.data?.name) : undefined;
    if (id && name) names.set(id, name);
  });
  return names;
}

/**
 * Names of people listed with a key (a record's readers, a team's members and signers), each
 * only where the key book (keys proven in the log) has that person with exactly the listed key:
 * `null` for one it could not find or finds with another key. A pinned name alone would put a
 * known person's name on a reader whose lookup the server made fail, or on a team entry that
 * signs another key in under her id. Absent: still looking.
 */
export function useConfirmedNames(
  people: readonly { userId: string; fingerprint: string }[],
): Map<string, string | null> {
  const { deps } = useWorkspace();
  const { unique, results } = usePeople(people.map((r) => r.userId));
  const names = new Map<string, string | null>();
  results.forEach((r, i) => {
    const id = unique[i];
    const listed = people.find((x) => x.userId === id);
    if (!id || !listed || r.isPending) return;
    const confirmed = r.data?.fingerprint === listed.fingerprint;
    names.set(id, confirmed ? (deps.accountState.nameOf(id, r.data?.name) ?? null) : null);
  });
  return names;
}

/** A person listed with a key, as useConfirmedNames names her: else by her key's numbers. */
export function confirmedLabel(
  names: Map<string, string | null>,
  person: { userId: string; fingerprint: string },
): string {
  const name = names.get(person.userId);
  if (name === null)
    return `Unknown person (key ${fingerprintGroups(person.fingerprint).join(' ')})`;
  return name ?? '…';
}

/** The people among `ids` whose key the transparency log did not prove, each with why (DESIGN §14). */
export function useKeyRefusals(ids: string[]): KeyNotProvenError[] {
  return usePeople(ids).results.flatMap((r) =>
    r.error instanceof KeyNotProvenError ? [r.error] : [],
  );
}
