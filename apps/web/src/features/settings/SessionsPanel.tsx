import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints } from '@medseal/contract';
import { describeError } from '../../api/errors';
import { useServices } from '../../app/services';
import { Badge, Banner, Button, uiStyles } from '../../ui';
import { formatDateTime } from '../../app/dates';

/** My open sessions (DESIGN §4: the user can list and end sessions). */
export function SessionsPanel() {
  const { call } = useServices();
  const queryClient = useQueryClient();
  const sessions = useQuery({
    queryKey: ['sessions'],
    queryFn: () => call(endpoints.listSessions, {}),
  });
  const end = useMutation({
    mutationFn: (sessionId: string) => call(endpoints.endSession, { params: { sessionId } }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['sessions'] }),
  });
  if (sessions.isPending) return <p aria-busy="true">Loading sessions…</p>;
  if (sessions.isError) return <Banner tone="bad">{describeError(sessions.error)}</Banner>;
  return (
    <>
      {end.isError ? <Banner tone="bad">{describeError(end.error)}</Banner> : null}
      <table className={uiStyles.table}>
        <caption className="visually-hidden">Sessions</caption>
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Started</th>
            <th scope="col">Expires</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {sessions.data.sessions.map((s) => (
            <tr key={s.id}>
              <td>
                {s.userAgent ? shortAgent(s.userAgent) : 'Unknown device'}{' '}
                {s.current ? <Badge tone="ok">This tab</Badge> : null}
              </td>
              <td>{formatDateTime(s.createdAt)}</td>
              <td>{formatDateTime(s.expiresAt)}</td>
              <td>
                {s.current ? null : (
                  <Button
                    variant="secondary"
                    disabled={end.isPending}
                    onClick={() => end.mutate(s.id)}
                  >
                    End session
                  </Button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function shortAgent(ua: string): string {
  const browser =
    /Firefox\/\d+/.exec(ua)?.[0] ??
    /Edg\/\d+/.exec(ua)?.[0] ??
    /Chrom(e|ium)\/\d+/.exec(ua)?.[0] ??
    /Safari\/\d+/.exec(ua)?.[0] ??
    'Browser';
  const os = /Windows|Mac OS X|Android|iPhone|Linux/.exec(ua)?.[0] ?? '';
  return `${browser.replace('/', ' ')}${os ? ` on ${os}` : ''}`;
}
