/**
 * Dates and times as people read them: one format everywhere, from the browser's locale and
 * time zone (Intl). Stored values stay ISO 8601.
 */
const day = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const moment = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

/** A point in time (ISO string or Date) as its date and time. */
export function formatDateTime(at: string | Date): string {
  return moment.format(new Date(at));
}

/** A point in time as its time of day only (for lists already grouped by day). */
export function formatTime(at: string | Date): string {
  return time.format(new Date(at));
}

/**
 * A calendar day: a clinical date typed as YYYY-MM-DD (no time zone, so read as that day
 * here, never shifted by one), or a point in time's local day. Text that is not a date is
 * returned as it is.
 */
export function formatDay(value: string | Date): string {
  if (typeof value === 'string') {
    const ymd = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (ymd) return day.format(new Date(Number(ymd[1]), Number(ymd[2]) - 1, Number(ymd[3])));
  }
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : day.format(date);
}
