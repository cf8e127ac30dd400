export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export const startOfHourMs = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
export const startOfDayMs = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
/** Unix seconds: how DateTime values travel (no time-zone parsing on either side). */
export const unixSec = (ms: number) => Math.floor(ms / 1000);
/** `YYYY-MM-DD` (UTC), how Date values travel. */
export const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** The times a DateTime64(3) column holds. */
const DATETIME64_FROM_MS = Date.UTC(1900, 0, 1);
const DATETIME64_UNTIL_MS = Date.UTC(2300, 0, 1);
/**
 * `YYYY-MM-DD hh:mm:ss.sss` (UTC) for DateTime64(3, 'UTC') columns; null for an Invalid Date or
 * a time the column cannot hold (`toISOString` throws on the first, and writes ±YYYYYY years past 9999).
 */
export function utcDateTime64(date: Date): string | null {
  const ms = date.getTime();
  if (!(ms >= DATETIME64_FROM_MS && ms < DATETIME64_UNTIL_MS)) return null;
  return date.toISOString().replace('T', ' ').replace('Z', '');
}
