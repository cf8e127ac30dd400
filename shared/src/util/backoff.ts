export interface BackoffOptions {
  /** The first delay's ceiling. */
  baseMs: number;
  /** No delay exceeds this. */
  maxMs: number;
  /**
   * `equal` (default): half the delay fixed, half random, so a fleet that lost the server at the
   * same moment does not come back in lockstep. `none`: exactly the doubled delay, for waits a
   * person is told about ("retrying in 8 s") or a test counts.
   */
  jitter?: 'equal' | 'none';
  /** Injectable for tests; defaults to Math.random. */
  random?: () => number;
}

/** Doubling stops here: 2^30 times any base is past every ceiling we use, and stays finite. */
const MAX_DOUBLINGS = 30;

/**
 * Exponential backoff: `baseMs` doubled per attempt up to `maxMs`, jittered. `attempt` 0 is
 * the first retry; a negative or fractional attempt counts as the nearest sensible one.
 */
export function backoffMs(attempt: number, opts: BackoffOptions): number {
  const step = Math.min(Math.max(0, Math.floor(attempt)), MAX_DOUBLINGS);
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** step);
  if (opts.jitter === 'none') return ceiling;
  const random = opts.random ?? Math.random;
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
