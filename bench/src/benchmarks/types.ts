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

/** A comma-separated list from `--set name=a,b,c` or the default. */
export function settingList(ctx: BenchContext, name: string, full: number[], quick: number[]): number[] {
  const value = ctx.overrides[name];
  if (value !== undefined) return value.split(',').map(Number);
  return ctx.quick ? quick : full;
}
