import type { Benchmark } from './types.ts';
import { connectedBenchmark } from './connected.ts';
import { ingestBenchmark } from './ingest.ts';
import { commandsBenchmark } from './commands.ts';
import { footprintBenchmark } from './footprint.ts';
import { backlogBenchmark } from './backlog.ts';
import { drainBenchmark } from './drain.ts';
import { dashboardBenchmark } from './dashboard.ts';
import { alertingBenchmark } from './alerting.ts';
import { remoteBenchmark } from './remote.ts';
import { patchingBenchmark } from './patching.ts';
import { enrollBenchmark } from './enroll.ts';
import { soakBenchmark } from './soak.ts';

/** Every benchmark, in the order `npm run bench` runs them. */
export const benchmarks: Benchmark[] = [
  connectedBenchmark,
  ingestBenchmark,
  footprintBenchmark,
  backlogBenchmark,
  drainBenchmark,
  dashboardBenchmark,
  commandsBenchmark,
  alertingBenchmark,
  remoteBenchmark,
  patchingBenchmark,
  enrollBenchmark,
  // Last: an hour at full size (`--only soak`, or `--set soakMs=...` for a shorter one).
  soakBenchmark,
];
