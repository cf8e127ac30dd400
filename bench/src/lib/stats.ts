/**
 * A mergeable latency histogram: log-spaced buckets 2 % wide, so a million observations
 * cost a few kilobytes and merge across worker processes without shipping raw values.
 */
const GROWTH = 1.02;
const MIN_MS = 0.01;
const LOG_GROWTH = Math.log(GROWTH);

export interface HistogramJson {
  counts: Record<string, number>;
  count: number;
  sum: number;
  max: number;
}

export class Histogram {
  private counts = new Map<number, number>();
  count = 0;
  sum = 0;
  max = 0;

  record(ms: number): void {
    const bucket = ms <= MIN_MS ? 0 : Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH);
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  merge(other: Histogram | HistogramJson): void {
    const entries = other instanceof Histogram ? other.counts : new Map(Object.entries(other.counts).map(([k, v]) => [Number(k), v]));
    for (const [bucket, n] of entries) this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + n);
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
  }

  /** The value at quantile `q` (0..1), as the upper edge of its bucket (never under-reports), capped at the max seen. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket)!;
      if (seen >= rank) return Math.min(this.max, MIN_MS * GROWTH ** bucket);
    }
    return this.max;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      meanMs: this.count ? round(this.sum / this.count) : null,
      p50Ms: round(this.quantile(0.5)),
      p95Ms: round(this.quantile(0.95)),
      p99Ms: round(this.quantile(0.99)),
      maxMs: this.count ? round(this.max) : null,
    };
  }

  toJSON(): HistogramJson {
    return { counts: Object.fromEntries(this.counts), count: this.count, sum: this.sum, max: this.max };
  }

  static from(json: HistogramJson): Histogram {
    const h = new Histogram();
    h.merge(json);
    return h;
  }
}

export interface LatencySummary {
  count: number;
  meanMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Rounds to 3 significant-ish decimals for tables and JSON; null stays null. */
export function round<T extends number | null>(value: T, digits = 2): T {
  if (value === null || !Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return (Math.round(value * f) / f) as T;
}

/** Least-squares slope of y over x (per unit of x); 0 with fewer than two points. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
