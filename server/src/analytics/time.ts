export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

export const startOfHourMs = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
export const startOfDayMs = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
/** Unix seconds: how DateTime values travel (no time-zone parsing on either side). */
export const unixSec = (ms: number) => Math.floor(ms / 1000);
/** `YYYY-MM-DD` (UTC), how Date values travel. */
export const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
/** `YYYY-MM-DD hh:mm:ss.sss` (UTC) for DateTime64(3, 'UTC') columns. */
export const utcDateTime64 = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '');
