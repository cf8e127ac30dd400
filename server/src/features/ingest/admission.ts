import { MAX_CLOCK_SKEW_MS, MAX_RECORD_AGE_MS } from '@ninjait/shared';

/**
 * Whether a record's collection time is plausible by the server's clock. The agent's outbox
 * drops records older than MAX_RECORD_AGE_MS by its own clock; the server allows the skew on top,
 * so an agent a little behind never has its last buffered records set aside.
 */
export const OLDEST_ACCEPTED_AGE_MS = MAX_RECORD_AGE_MS + MAX_CLOCK_SKEW_MS;

/** Null when the record may be stored; else why not, in words an admin can act on. */
export function collectionTimeProblem(collectedAtMs: number, receivedAtMs: number): string | null {
  const ageMs = receivedAtMs - collectedAtMs;
  if (ageMs > OLDEST_ACCEPTED_AGE_MS) {
    return `collected ${span(ageMs)} before it arrived; records older than ${span(MAX_RECORD_AGE_MS)} are not stored ` +
      "(the device's clock is behind, or it was offline that long)";
  }
  if (-ageMs > MAX_CLOCK_SKEW_MS) {
    return `collected ${span(-ageMs)} ahead of the server's clock; at most ${span(MAX_CLOCK_SKEW_MS)} is accepted ` +
      "(the device's clock is ahead: check its time settings)";
  }
  return null;
}

const UNITS: [ms: number, one: string, many: string][] = [
  [365 * 86_400_000, 'year', 'years'], [86_400_000, 'day', 'days'], [3_600_000, 'h', 'h'], [60_000, 'min', 'min'], [1_000, 's', 's'],
];

/** "45 days", "3 h", "12 min": the largest unit with at least one whole of it. */
function span(ms: number): string {
  for (const [size, one, many] of UNITS) {
    const count = Math.floor(ms / size);
    if (count >= 1) return `${count} ${count === 1 ? one : many}`;
  }
  return `${Math.round(ms)} ms`;
}
