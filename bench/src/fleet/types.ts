import type { HistogramJson } from '../lib/stats.ts';

/** What one worker process simulates: agents `firstIndex .. firstIndex + count - 1`. */
export interface WorkerConfig {
  /** Server instances; agent i connects to `serverUrls[i % length]`. */
  serverUrls: string[];
  token: string;
  runId: string;
  firstIndex: number;
  count: number;
  intervalMs: number;
  /** Enrollments are spread evenly over this period. */
  startPeriodMs: number;
  /** The worker stops itself this long after it started. */
  durationMs: number;
  /** Source addresses for the WebSockets (127.0.0.x): each has its own 28k ephemeral ports. */
  sourceAddresses: string[];
  /** Source addresses for enrollment calls, spread so the per-address enroll limit is not the bottleneck. */
  enrollAddresses: string[];
  transport: 'raw' | 'trpc';
  /** `interval`: one sample per interval, like an agent. `flood`: back-to-back pushes of `recordsPerPush`, for ingest. */
  mode: 'interval' | 'flood';
  recordsPerPush: number;
  heartbeat: boolean;
  enrollConcurrency: number;
  /** Subscribe to `agent.commands` and answer `echo` scripts. */
  commands: boolean;
  /** Devices written straight to the store beforehand, by agent index: these agents skip `agent.enroll` (null: enroll). */
  credentials?: ({ deviceId: string; deviceSecret: string } | null)[];
}

export interface WorkerCounters {
  enrolled: number;
  connected: number;
  enrollFailures: number;
  connectFailures: number;
  disconnects: number;
  pushes: number;
  records: number;
  pushErrors: number;
  heartbeats: number;
  heartbeatErrors: number;
  commandsAnswered: number;
}

export interface WorkerReport extends WorkerCounters {
  worker: number;
  pid: number;
  final: boolean;
  ackLatency: HistogramJson;
  heartbeatLatency: HistogramJson;
  enrollLatency: HistogramJson;
  /** First few messages per error code, to tell a refusal from a timeout. */
  errors: Record<string, { count: number; example: string }>;
  rssBytes: number;
  cpuSec: number;
  /** This worker's event-loop delay since the last mark (or its start). */
  loopDelay: { p99Ms: number; maxMs: number };
}

export type ToWorker = { type: 'start'; worker: number; config: WorkerConfig } | { type: 'mark' } | { type: 'stop' };
export type FromWorker = { type: 'report'; report: WorkerReport };
