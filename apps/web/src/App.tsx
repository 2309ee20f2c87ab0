import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useNavigate } from 'react-router';
import { QueryClient, QueryClientProvider, useQueryClient } from '@tanstack/react-query';
import { endpoints } from '@medseal/contract';
import { isApiError } from './api/errors';
import type { ClientStatusStore } from './app/clientStatus';
import { Layout } from './app/Layout';
import { ServicesProvider, useServices, type Services } from './app/services';
import { SessionProvider, useSession } from './app/session';
import { WorkspaceProvider } from './app/workspace';
import { restoreFromTab } from './crypto/tabVault';
import { AccessLogPage } from './features/audit/AccessLogPage';
import {
  login,
  lockNow,
  logout,
  recoverAccount,
  registerFlows,
  resumeSession,
  type Unlocked,
} from './features/auth/flows';
import { LoginPage } from './features/auth/LoginPage';
import { RecoverPage } from './features/auth/RecoverPage';
import { RegisterPage } from './features/auth/RegisterPage';
import { SessionEndedDialog } from './features/auth/SessionEndedDialog';
import { ContactsPage } from './features/contacts/ContactsPage';
import { PatientPage, PatientsPage } from './features/doctor/PatientsPage';
import { EditRecordPage, NewRecordPage } from './features/records/EditRecordPage';
import { HistoryPage } from './features/records/HistoryPage';
import { RecordPage } from './features/records/RecordPage';
import { RecordsPage } from './features/records/RecordsPage';
import { SettingsPage } from './features/settings/SettingsPage';
import { TeamPage } from './features/teams/TeamPage';
import { TeamsPage } from './features/teams/TeamsPage';

/** The application: services in, router and session state machine out. */
export function App({
  services,
  clientStatus,
}: {
  services: Services;
  clientStatus: ClientStatusStore;
}) {
  const queryClient = useMemo(
    () =>
      new QueryClient({
        defaultOptions: { queries: { retry: false, refetchOnWindowFocus: false } },
      }),
    [],
  );
  return (
    <ServicesProvider services={services}>
      <QueryClientProvider client={queryClient}>
        <SessionProvider>
          <BrowserRouter>
            <Root clientStatus={clientStatus} />
          </BrowserRouter>
        </SessionProvider>
      </QueryClientProvider>
    </ServicesProvider>
  );
}

function Root({ clientStatus }: { clientStatus: ClientStatusStore }) {
  const services = useServices();
  const { state, set } = useSession();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const started = useRef(false);
  // 'asking' / 'dismissed': the server ended the session while the keys are unlocked here.
  const [sessionEnded, setSessionEnded] = useState<'no' | 'asking' | 'dismissed'>('no');

  // On load: is there a server session, and did this tab choose to stay unlocked?
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void (async () => {
      try {
        const user = await services.call(endpoints.me, {});
        const key = await restoreFromTab(services.crypto, {
          userId: user.id,
          fingerprint: user.fingerprint,
        }).catch(() => null);
        set(key ? { status: 'unlocked', user, key } : { status: 'locked', user });
      } catch (e) {
        if (!isApiError(e)) console.error(e);
        set({ status: 'signed-out' });
      }
    })();
  }, [services, set]);

  const unlocked = useCallback(
    (u: Unlocked) => {
      set({ status: 'unlocked', user: u.user, key: u.key });
      void navigate('/records');
    },
    [set, navigate],
  );

  const reset = useCallback(() => {
    queryClient.clear();
    setSessionEnded('no');
  }, [queryClient]);

  const onLock = useCallback(async () => {
    await lockNow(services);
    reset();
    if (state.status === 'unlocked') set({ status: 'locked', user: state.user });
  }, [services, reset, set, state]);

  const onLogout = useCallback(async () => {
    await logout(services).catch(() => undefined);
    reset();
    set({ status: 'signed-out' });
    void navigate('/login');
  }, [services, reset, set, navigate]);

  const flows = useMemo(() => registerFlows(services, unlocked), [services, unlocked]);

  // The server ended the session (expired, ended from another device) while the keys are
  // unlocked here: ask for the password in place instead of dropping the page and its draft.
  useEffect(() => {
    if (state.status !== 'unlocked') return;
    const onError = (event: { type: string; action?: { type: string; error?: unknown } }) => {
      if (
        event.type === 'updated' &&
        event.action?.type === 'error' &&
        isApiError(event.action.error, 'unauthenticated')
      )
        setSessionEnded('asking');
    };
    const stopQueries = queryClient.getQueryCache().subscribe(onError);
    const stopMutations = queryClient.getMutationCache().subscribe(onError);
    return () => {
      stopQueries();
      stopMutations();
    };
  }, [queryClient, state.status]);
  const onResume = useCallback(
    async (password: string, onProgress: (fraction: number | null) => void) => {
      if (state.status !== 'unlocked') return;
      await resumeSession({ ...services, user: state.user, key: state.key }, password, onProgress);
      setSessionEnded('no');
      void queryClient.refetchQueries({ predicate: (q) => q.state.status === 'error' });
    },
    [services, state, queryClient],
  );

  return (
    <Layout
      state={state}
      sessionEnded={sessionEnded !== 'no'}
      onLogInAgain={() => setSessionEnded('asking')}
      clientStatus={clientStatus}
      onLock={() => void onLock()}
      onLogout={() => void onLogout()}
    >
      {state.status === 'checking' ? <p aria-busy="true">Starting…</p> : null}
      {state.status === 'signed-out' ? (
        <Routes>
          <Route
            path="/register"
            element={<RegisterPage flows={flows} onRegistered={() => undefined} />}
          />
          <Route
            path="/recover"
            element={
              <RecoverPage
                onRecover={async (input) => {
                  const recovered = await recoverAccount(services, input);
                  return {
                    recoveryWords: recovered.recoveryWords,
                    done: () => unlocked(recovered),
                  };
                }}
              />
            }
          />
          <Route
            path="/login"
            element={
              <LoginPage
                onSubmit={async (input, onProgress) =>
                  unlocked(await login(services, input, onProgress))
                }
              />
            }
          />
          <Route path="*" element={<Navigate to="/login" replace />} />
        </Routes>
      ) : null}
      {state.status === 'locked' ? (
        <LoginPage
          lockedUser={state.user}
          onSubmit={async (input, onProgress) => {
            // A new session replaces the old one (the server returns the locked key only at login).
            await services.call(endpoints.logout, {}).catch(() => undefined);
            const u = await login(services, input, onProgress);
            set({ status: 'unlocked', user: u.user, key: u.key });
          }}
        />
      ) : null}
      {state.status === 'unlocked' ? (
        <SessionEndedDialog
          open={sessionEnded === 'asking'}
          email={state.user.email}
          onResume={onResume}
          onClose={() => setSessionEnded('dismissed')}
          onLogout={() => void onLogout()}
        />
      ) : null}
      {state.status === 'unlocked' ? (
        <WorkspaceProvider user={state.user} keyRef={state.key}>
          <Routes>
            <Route path="/records" element={<RecordsPage />} />
            <Route path="/records/new" element={<NewRecordPage />} />
            <Route path="/records/:recordId" element={<RecordPage />} />
            <Route path="/records/:recordId/edit" element={<EditRecordPage />} />
            <Route path="/records/:recordId/history" element={<HistoryPage />} />
            <Route path="/patients" element={<PatientsPage />} />
            <Route path="/patients/:patientId" element={<PatientPage />} />
            <Route path="/teams" element={<TeamsPage />} />
            <Route path="/teams/:teamId" element={<TeamPage />} />
            <Route path="/contacts" element={<ContactsPage />} />
            <Route path="/access-log" element={<AccessLogPage />} />
            <Route path="/settings" element={<SettingsPage />} />
            <Route
              path="*"
              element={
                <Navigate to={state.user.role === 'doctor' ? '/patients' : '/records'} replace />
              }
            />
          </Routes>
        </WorkspaceProvider>
      ) : null}
    </Layout>
  );
}
