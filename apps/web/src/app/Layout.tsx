import { useSyncExternalStore, type ReactNode } from 'react';
import { NavLink, Link } from 'react-router';
import { Badge, Banner, Button } from '../ui';
import type { ClientStatusStore } from './clientStatus';
import type { SessionState } from './session';
import styles from './layout.module.css';

interface Props {
  state: SessionState;
  /** The server ended the session while the keys are unlocked here (App asks for the password). */
  sessionEnded: boolean;
  onLogInAgain(): void;
  clientStatus: ClientStatusStore;
  onLock(): void;
  onLogout(): void;
  children: ReactNode;
}

/** Header with navigation, lock state, "lock now" and logout; the outdated-client banner. */
export function Layout({ state, sessionEnded, onLogInAgain, clientStatus, onLock, onLogout, children }: Props) {
  const status = useSyncExternalStore(clientStatus.subscribe, clientStatus.get);
  const user = state.status === 'unlocked' || state.status === 'locked' ? state.user : null;
  return (
    <>
      <a className={styles.skip} href="#main">
        Skip to content
      </a>
      <header className={styles.header}>
        <div className={styles.headerInner}>
          <Link to="/" className={styles.brand}>
            Med<span>seal</span>
          </Link>
          {state.status === 'unlocked' ? (
            <nav className={styles.nav} aria-label="Main">
              <NavLink to="/records" end>
                Records
              </NavLink>
              {state.user.role === 'doctor' ? <NavLink to="/patients">Patients</NavLink> : null}
              {state.user.role === 'doctor' ? <NavLink to="/teams">Teams</NavLink> : null}
              <NavLink to="/contacts">Contacts</NavLink>
              <NavLink to="/access-log">Access log</NavLink>
              <NavLink to="/settings">Settings</NavLink>
            </nav>
          ) : (
            <span className={styles.nav} />
          )}
          {user ? (
            <div className={styles.status}>
              <span>
                {user.name} <Badge>{user.role}</Badge>
              </span>
              {state.status === 'unlocked' && sessionEnded ? (
                <>
                  <Badge tone="warn">Session ended</Badge>
                  <Button variant="secondary" onClick={onLogInAgain}>
                    Log in again
                  </Button>
                </>
              ) : state.status === 'unlocked' ? (
                <>
                  <Badge tone="ok">Unlocked</Badge>
                  <Button variant="secondary" onClick={onLock}>
                    Lock now
                  </Button>
                </>
              ) : (
                <Badge tone="warn">Locked</Badge>
              )}
              <Button variant="secondary" onClick={onLogout}>
                Log out
              </Button>
            </div>
          ) : null}
        </div>
      </header>
      <main id="main" className={styles.main}>
        {status === 'update-required' ? (
          <Banner tone="warn" title="A newer version of Medseal is available.">
            This version is no longer supported by the server. Please reload the page to update.{' '}
            <Button variant="link" onClick={() => window.location.reload()}>
              Reload now
            </Button>
          </Banner>
        ) : null}
        {children}
      </main>
      <footer className={styles.footer}>Your records are encrypted in this browser. The server stores only ciphertext, public keys and who may read what.</footer>
    </>
  );
}
