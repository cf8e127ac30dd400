/** Readable units and the browser's time zone, used everywhere numbers meet people. */
export const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The one placeholder for anything unknown or not reported, numbers and text alike. */
export const DASH = '—';
const isNum = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

export function percent(value: number | null | undefined, digits = 1): string {
  return isNum(value) ? `${value.toFixed(digits)} %` : DASH;
}

/** Decimal gigabytes (10⁹ bytes), as disks are sold. */
export function gigabytes(bytes: number | null | undefined, digits = 1): string {
  return isNum(bytes) ? `${(bytes / 1e9).toFixed(digits)} GB` : DASH;
}

/** Network rates: bytes per second in, megabits per second out. */
export function mbits(bytesPerSec: number | null | undefined): string {
  if (!isNum(bytesPerSec)) return DASH;
  const value = (bytesPerSec * 8) / 1e6;
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} Mbit/s`;
}

export function duration(seconds: number | null | undefined): string {
  if (!isNum(seconds)) return DASH;
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}

export function toDate(value: Date | string | number | null | undefined): Date | null {
  if (value === null || value === undefined || value === '') return null;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium', timeZone: TIME_ZONE });

export function dateTime(value: Date | string | number | null | undefined): string {
  const date = toDate(value);
  return date ? dateTimeFormat.format(date) : DASH;
}

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function ago(value: Date | string | number | null | undefined, now = Date.now()): string {
  const date = toDate(value);
  if (!date) return 'never';
  const sec = Math.round((date.getTime() - now) / 1000);
  // Clocks of server, agent and browser differ by a little: a moment in the near future is "now".
  if (sec > -5 && sec < 60) return 'just now';
  const abs = Math.abs(sec);
  if (abs < 60) return relativeFormat.format(sec, 'second');
  if (abs < 3_600) return relativeFormat.format(Math.round(sec / 60), 'minute');
  if (abs < 86_400) return relativeFormat.format(Math.round(sec / 3_600), 'hour');
  return relativeFormat.format(Math.round(sec / 86_400), 'day');
}

export function money(value: number | null | undefined, currency = 'USD'): string {
  return isNum(value) ? new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(value) : DASH;
}

export function count(value: number | null | undefined): string {
  return isNum(value) ? new Intl.NumberFormat().format(value) : DASH;
}

/** "viewer" → "Viewer", "timed_out" → "Timed out". */
export function label(value: string): string {
  const text = value.replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** What firmware and systeminformation say when they do not know: "-", "Default string", "To be filled by O.E.M."… */
const NOT_REPORTED = /^(-+|\.+|0+|n\/?a|none|null|unknown|not specified|not applicable|not available|default string|to be filled by o\.?e\.?m\.?|system (serial number|product name|manufacturer|version))$/i;

/** Reported text, or the placeholder when it is empty or a stand-in for "unknown". */
export function known(value: string | null | undefined): string {
  const text = value?.trim() ?? '';
  return text && !NOT_REPORTED.test(text) ? text : DASH;
}

/** A clock speed; 0 is how agents say they could not read it. */
export function gigahertz(value: number | null | undefined): string {
  return isNum(value) && value > 0 ? `${value.toFixed(2)} GHz` : DASH;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: TIME_ZONE });
const dayTimeFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: TIME_ZONE });
const dayKey = new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE });

/** "10:42" today, "2 Dec, 10:42" another day: when something started, in a sentence. */
export function clockTime(value: Date | string | number | null | undefined, now = Date.now()): string {
  const date = toDate(value);
  if (!date) return DASH;
  return dayKey.format(date) === dayKey.format(now) ? timeFormat.format(date) : dayTimeFormat.format(date);
}

/** A command's run time from its start and end; nothing when it has not started or finished. */
export function elapsed(start: Date | string | null | undefined, end: Date | string | null | undefined): string {
  const from = toDate(start);
  const to = toDate(end);
  if (!from || !to) return DASH;
  const ms = Math.max(0, to.getTime() - from.getTime());
  return ms < 1_000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1_000).toFixed(1)} s` : duration(ms / 1_000);
}

const pluralRules = new Intl.PluralRules('en');

/**
 * A count with its noun, singular or plural as the language wants: "1 device", "2 devices",
 * "1,204 devices". `plural` for nouns that do not just take an "s" ("1 person", "2 people").
 */
export function counted(value: number | null | undefined, singular: string, plural = `${singular}s`): string {
  if (!isNum(value)) return `${DASH} ${plural}`;
  return `${count(value)} ${pluralRules.select(value) === 'one' ? singular : plural}`;
}
