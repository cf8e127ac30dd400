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
  /** The log forgets what every sink took by itself (JetStream's interest retention): only the quarantine is trimmed here. */
  trimsItself?: boolean;
  /** Each sink's lag in rows, when the log is not the relational one. */
  lagRows?: () => Promise<Iterable<readonly [string, number]>>;
}): Job[] {
  const { env, db, metrics, sinkNames } = deps;
  return [{
    name: 'ingest-trim',
    everyMs: TRIM_MS,
    async run() {
      if (!deps.trimsItself) await trimIngestLog(db, sinkNames, env.INGEST_LOG_RETENTION_SEC);
      await trimQuarantine(db, env.INGEST_QUARANTINE_RETENTION_DAYS);
      for (const [sink, lag] of await (deps.lagRows?.() ?? drainerLagRows(db))) metrics.drainerLagRows.set({ store: sink }, lag);
    },
  }];
}
