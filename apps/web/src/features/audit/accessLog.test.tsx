import { render, screen } from '@testing-library/react';
import { AccessLogTable } from './AccessLogTable';
import { othersActivity, type AccessLogRow } from './accessLog';

const row = (actorId: string, actor: string, seq: number): AccessLogRow => ({
  key: `r1-${seq}`,
  at: `2026-12-03T10:0${seq}:00.000Z`,
  actorId,
  actor,
  action: 'read',
  record: 'Colonoscopy',
});

describe('the access log', () => {
  it('when the directory names another person "You", then her rows stay in other people’s activity and mine do not', () => {
    const rows = [row('me', 'You', 1), row('dana', 'You', 2), row('cara', 'Dr Cara Lee', 3)];
    expect(othersActivity(rows, 'me').map((r) => r.actorId)).toEqual(['dana', 'cara']);
  });

  it('when a trail failed the app’s own check, then the log warns with the reason and never says intact', () => {
    render(
      <AccessLogTable
        rows={[row('dana', 'Dr Dana Fox', 1)]}
        failed={[
          {
            record: 'Colonoscopy',
            problem: { status: 'shortened', length: 3, checkpointLength: 5 },
          },
        ]}
      />,
    );
    expect(screen.getByRole('alert').textContent).toMatch(
      /tampered.*Colonoscopy: the server shows 3 entries, but you already saw 5/,
    );
    expect(document.body.textContent).not.toMatch(/intact/i);
  });
});
