import type { Row } from '../lib/table.ts';
import type { StoreChoice } from '../lib/stores.ts';
import type { ServerUnderTest } from '../lib/server-process.ts';

/** What every benchmark gets from `main`. */
export interface BenchContext {
  quick: boolean;
  stores: StoreChoice;
  /** Directory for `--cpu-prof` output of the server, when `--profile` is given. */
  profileDir: string | null;
  /** `--set key=value` overrides, read by each benchmark for its own sizes. */
  overrides: Record<string, string>;
  runId: string;
  /** One server for every benchmark (the smoke test: server start-up dominates tiny runs). */
  sharedServer?: ServerUnderTest;
  /** Skip the parts that need a server of their own (pre-filled log, `npm start`). */
  skipFreshServers?: boolean;
}

export interface BenchResult {
  config: Record<string, unknown>;
  figures: Record<string, unknown>;
  rows: Row[];
  /** Set when the benchmark could not run here yet (e.g. a feature it measures is missing). */
  pending?: string;
}

export interface Benchmark {
  name: string;
  summary: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

/** A size from `--set name=…` or the default for this mode. */
export function setting(ctx: BenchContext, name: string, full: number, quick: number): number {
  const value = ctx.overrides[name];
  if (value !== undefined) return Number(value);
  return ctx.quick ? quick : full;
}

/**
 * `--set workers=N`: the server under test runs as N processes behind its port (WORKERS), which
 * needs PostgreSQL and Redis; 1 (one process) by default.
 */
export function serverWorkers(ctx: BenchContext): number {
  const workers = setting(ctx, 'workers', 1, 1);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new Error('--set workers takes 1 to 64');
  if (workers > 1 && !(ctx.stores.databaseUrl && ctx.stores.redisUrl)) throw new Error('--set workers>1 needs DATABASE_URL and REDIS_URL (workers share PostgreSQL and Redis)');
  return workers;
}

/** A comma-separated list from `--set name=a,b,c` or the default. */
export function settingList(ctx: BenchContext, name: string, full: number[], quick: number[]): number[] {
  const value = ctx.overrides[name];
  if (value !== undefined) return value.split(',').map(Number);
  return ctx.quick ? quick : full;
}
