import { dayAsWords, formatDateTime, formatDay } from './dates';

describe('dates in the user’s locale', () => {
  it('when a clinical date is YYYY-MM-DD, then it is shown as that calendar day whatever the time zone', () => {
    expect(formatDay('2026-01-02')).toBe(
      new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' }).format(new Date(2026, 0, 2)),
    );
  });

  it('when a point in time is shown, then date and time come from Intl in one format', () => {
    const at = '2026-11-27T09:30:00.000Z';
    expect(formatDateTime(at)).toBe(
      new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(
        new Date(at),
      ),
    );
  });

  it('when the text is not a date, then it is shown as it is', () => {
    expect(formatDay('sometime in May')).toBe('sometime in May');
  });

  it('when a clinical date is searched, then it is findable as typed, as shown and written out with weekday and month', () => {
    const words = dayAsWords('2026-11-27');
    expect(words).toContain('2026-11-27');
    expect(words).toContain(formatDay('2026-11-27'));
    expect(words).toContain(
      new Intl.DateTimeFormat(undefined, { weekday: 'long' }).format(new Date(2026, 10, 27)),
    );
    expect(words).toContain(
      new Intl.DateTimeFormat(undefined, { month: 'long' }).format(new Date(2026, 10, 27)),
    );
  });
});
