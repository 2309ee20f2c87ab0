import { useId, useState, useSyncExternalStore, type ReactNode } from 'react';
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

/**
 * Header with navigation, lock state, "lock now" and logout; the outdated-client banner. On a
 * phone it is two rows: the brand, the lock state and an Account button, then the navigation.
 */
export function Layout({
  state,
  sessionEnded,
  onLogInAgain,
  clientStatus,
  onLock,
  onLogout,
  children,
}: Props) {
  const status = useSyncExternalStore(clientStatus.subscribe, clientStatus.get);
  const user = state.status === 'unlocked' || state.status === 'locked' ? state.user : null;
  const [menuOpen, setMenuOpen] = useState(false);
  const menuId = useId();
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
            <nav className={styles.nav} aria-label="Main" data-role={state.user.role}>
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
            <>
              <div className={styles.lockState}>
                {state.status === 'unlocked' && sessionEnded ? (
                  <>
                    {/* On a phone the button alone says it (one header row). */}
                    <span className={styles.wideOnly}>
                      <Badge tone="warn">Session ended</Badge>
                    </span>
                    <Button variant="secondary" onClick={onLogInAgain}>
                      Log in again
                    </Button>
                  </>
                ) : state.status === 'unlocked' ? (
                  <Badge tone="ok">Unlocked</Badge>
                ) : (
                  <Badge tone="warn">Locked</Badge>
                )}
              </div>
              {/* Below 1000 px the account's name and buttons fold behind this button (CSS). */}
              <button
                type="button"
                className={styles.menuButton}
                aria-expanded={menuOpen}
                aria-controls={menuId}
                onClick={() => setMenuOpen((o) => !o)}
              >
                Account
              </button>
              <div id={menuId} className={styles.status} data-open={menuOpen}>
                <span className={styles.who} title={user.name}>
                  {user.name}
                </span>
                {/* The role only in the Account menu: on a wide screen the name needs the room. */}
                <span className={styles.narrowOnly}>
                  <Badge>{user.role}</Badge>
                </span>
                {state.status === 'unlocked' && !sessionEnded ? (
                  <Button variant="secondary" onClick={onLock}>
                    Lock now
                  </Button>
                ) : null}
                <Button variant="secondary" onClick={onLogout}>
                  Log out
                </Button>
              </div>
            </>
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
      <footer className={styles.footer}>
        Your records are encrypted in this browser. The server keeps them locked: it never sees what
        they say.
      </footer>
    </>
  );
}
