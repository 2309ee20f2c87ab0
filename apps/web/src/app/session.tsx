import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import type { Me } from '@medseal/contract';
import type { KeyRef } from '../crypto/client';

/**
 * Where the user stands (DESIGN §4):
 * - `signed-out`: no server session;
 * - `locked`: a server session exists but the private key is not in the worker (after a
 *   reload or "lock now"); the password is needed again;
 * - `unlocked`: the worker holds the private key; the UI holds only its handle.
 */
export type SessionState =
  | { status: 'checking' }
  | { status: 'signed-out' }
  | { status: 'locked'; user: Me }
  | { status: 'unlocked'; user: Me; key: KeyRef };

interface SessionApi {
  state: SessionState;
  set(state: SessionState): void;
}

const SessionContext = createContext<SessionApi | null>(null);

export function SessionProvider({
  initial = { status: 'checking' },
  children,
}: {
  initial?: SessionState;
  children: ReactNode;
}) {
  const [state, setState] = useState<SessionState>(initial);
  const set = useCallback((s: SessionState) => setState(s), []);
  const value = useMemo(() => ({ state, set }), [state, set]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** For pages that only render when unlocked (the router guarantees it). */
export function useUnlocked(): { user: Me; key: KeyRef } {
  const { state } = useSession();
  if (state.status !== 'unlocked') throw new Error('this page needs an unlocked session');
  return { user: state.user, key: state.key };
}
