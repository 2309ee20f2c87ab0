/**
 * Dates and times as people read them: one format everywhere, from the browser's locale and
 * time zone (Intl). Stored values stay ISO 8601.
 */
const day = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
const moment = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const fullDay = new Intl.DateTimeFormat(undefined, { dateStyle: 'full' });

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

/**
 * A clinical date (YYYY-MM-DD) in every form someone may search it by: as typed, as the app
 * shows it, and written out with weekday and month ("Friday, November 27, 2026").
 */
export function dayAsWords(ymd: string): string {
  const parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
  if (!parts) return ymd;
  const date = new Date(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3]));
  return `${ymd} ${day.format(date)} ${fullDay.format(date)}`;
}
