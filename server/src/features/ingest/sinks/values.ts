import { storableText } from '@ninjait/shared';
import type { IngestRow, RejectedRow } from './types.ts';

/**
 * Defensive conversions between a logged row and what a store column takes. The schema bounds
 * what arrives today, but the log can hold rows an older server accepted, and a value a store
 * refuses would fail its whole batch: every sink converts through here, and none throws.
 */

/** Collection times every sink stores: ClickHouse's DateTime (seconds in a UInt32) ends in 2106. */
export const STORABLE_FROM_MS = 0;
export const STORABLE_UNTIL_MS = Date.UTC(2100, 0, 1);

/** The time if every sink can store it; null for an Invalid Date (a year-275760 value) or one outside 1970-2099. */
export function storableTime(date: Date): Date | null {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  return Number.isFinite(ms) && ms >= STORABLE_FROM_MS && ms < STORABLE_UNTIL_MS ? date : null;
}

/** Rows whose collection time no sink can store go to quarantine; the rest are written. */
export function splitStorable<Row extends IngestRow>(rows: readonly Row[]): { storable: Row[]; rejected: RejectedRow[] } {
  const storable: Row[] = [];
  const rejected: RejectedRow[] = [];
  for (const row of rows) {
    if (storableTime(row.collectedAt)) storable.push(row);
    else rejected.push({ row, reason: `its collection time (${describeTime(row.collectedAt)}) is outside what the stores hold (1970 to 2099)` });
  }
  return { storable, rejected };
}

function describeTime(date: Date): string {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  return Number.isFinite(ms) ? date.toISOString() : 'not a valid date';
}

// The number conversions are the metric arithmetic's (`shared`), used by every sink and screen.
export { finiteNumber, storableAmount, storableCount, storablePercent, UINT64_CEILING } from '@ninjait/shared';

/**
 * At most `max` characters as PostgreSQL counts them (code points), never splitting a surrogate
 * pair, without NUL: for varchar columns narrower than what the schema lets through.
 */
export function fitText(value: string, max: number): string {
  const text = storableText(value);
  if (text.length <= max) return text;
  return Array.from(text).slice(0, max).join('');
}
