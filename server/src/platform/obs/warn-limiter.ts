/** How long a repeated warning stays quiet after it was logged. */
export const REPEAT_WARNING_QUIET_MS = 10_000;
/** Kinds remembered at once; past it the oldest is forgotten (it may then log again early). */
const MAX_KINDS = 1_000;

/**
 * Lets one warning of a kind through per `quietMs` and counts the others, which the next one
 * carries as `repeatedSinceLast`. When a store slows down, every request warns at once (10,000
 * agents: thousands of slow-query and failed-read lines a minute), and serialising, writing and
 * shipping those lines (an error's stack through source maps) held the event loop for seconds,
 * slowing the store's callers further. Metrics keep counting every occurrence.
 */
export function createWarnLimiter(quietMs = REPEAT_WARNING_QUIET_MS, now: () => number = Date.now) {
  const kinds = new Map<string, { loggedAtMs: number; repeated: number }>();
  /** Null while the kind is quiet; else how many were held back since its last line. */
  return (kind: string): { repeatedSinceLast: number } | null => {
    const at = now();
    const seen = kinds.get(kind);
    if (seen && at - seen.loggedAtMs < quietMs) {
      seen.repeated++;
      return null;
    }
    if (!seen && kinds.size >= MAX_KINDS) kinds.delete(kinds.keys().next().value!);
    kinds.set(kind, { loggedAtMs: at, repeated: 0 });
    return { repeatedSinceLast: seen?.repeated ?? 0 };
  };
}
export type WarnLimiter = ReturnType<typeof createWarnLimiter>;
