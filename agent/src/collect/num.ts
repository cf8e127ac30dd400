/**
 * Coercions from what systeminformation returns (which may be NaN, negative after a counter
 * reset, fractional, or null) to what the shared schema accepts.
 */

/** A non-negative integer byte count; junk becomes 0. */
export function toBytes(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.round(v) : 0;
}

/** A percentage clamped to 0..100; junk becomes 0. */
export function toPercent(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 0;
  return Math.min(100, Math.max(0, v));
}

/** A per-second rate, or null when there is none yet (first reading) or it is meaningless. */
export function toRate(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

/** A non-negative finite number; junk becomes 0. */
export function toNonNegative(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

/** A string cut to the schema's limit. */
export function toText(v: unknown, max: number): string {
  return (typeof v === 'string' ? v : v == null ? '' : String(v)).slice(0, max);
}

/** Rejects after `ms` so one hung probe (say, a dead NFS mount in fsSize) cannot stall collection. */
export { withTimeout } from '@ninjait/shared';
