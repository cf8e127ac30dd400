/** Readable units and the browser's time zone, used everywhere numbers meet people. */
export const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

const DASH = '—';
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
