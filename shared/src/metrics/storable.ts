/**
 * Defensive conversions from a sample's numbers to what every store and screen takes. The schema
 * bounds what arrives today, but stores hold rows an older server accepted, and one value a store
 * refuses would fail its whole batch: these never throw and never return NaN or Infinity.
 */

/** Under 2^64 (UInt64's limit, ~1.8447e19) and printed by JSON without an exponent. */
export const UINT64_CEILING = 1e19;

/** A finite number, else 0 (a JSON `1e400` reads back as Infinity). */
export function finiteNumber(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** A non-negative amount (a rate, a sum) for a float field: 0 for junk or negatives, at most UINT64_CEILING. */
export function storableAmount(value: unknown): number {
  return Math.min(Math.max(0, finiteNumber(value)), UINT64_CEILING);
}

/** A count for an unsigned integer column: a rounded storable amount. */
export function storableCount(value: unknown): number {
  return Math.round(storableAmount(value));
}

/** A percentage in 0..100 (a used-over-total ratio of hostile numbers can be anything). */
export function storablePercent(value: unknown): number {
  return Math.min(100, Math.max(0, finiteNumber(value)));
}
