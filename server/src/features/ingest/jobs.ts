import type { Env } from '../../platform/config/index.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import type { Job } from '../../platform/scheduler/scheduler.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import { drainerLagRows, trimIngestLog } from './trimmer.ts';
import { trimQuarantine } from './quarantine.ts';

const TRIM_MS = 10_000;

/** The ingest log and the quarantine trimmed past retention (rows every sink has passed), and the drainers' lag sampled. */
export function ingestJobs(deps: {
  env: Env; db: RelationalStore; metrics: Metrics; sinkNames: readonly string[];
  /** Trims a log that is not the relational one (JetStream: what every consumer acknowledged). */
  trimLog?: () => Promise<unknown>;
  /** Each sink's lag in rows, when the log is not the relational one. */
  lagRows?: () => Promise<Iterable<readonly [string, number]>>;
}): Job[] {
  const { env, db, metrics, sinkNames } = deps;
  return [{
    name: 'ingest-trim',
    everyMs: TRIM_MS,
    async run() {
      await (deps.trimLog ? deps.trimLog() : trimIngestLog(db, sinkNames, env.INGEST_LOG_RETENTION_SEC));
      await trimQuarantine(db, env.INGEST_QUARANTINE_RETENTION_DAYS);
      for (const [sink, lag] of await (deps.lagRows?.() ?? drainerLagRows(db))) metrics.drainerLagRows.set({ store: sink }, lag);
    },
  }];
}
