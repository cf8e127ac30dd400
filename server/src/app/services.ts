import type { Env } from '../config/index.ts';
import type { Logger } from '../obs/logger.ts';
import type { Metrics } from '../obs/metrics.ts';
import type { RelationalStore } from '../stores/relational/index.ts';
import type { CacheStore } from '../stores/cache/index.ts';
import type { Sessions } from '../auth/sessions.ts';
import type { RateLimiter } from '../auth/rate-limit.ts';
import type { IngestLog } from '../ingest/ingest-log.ts';
import type { AgentConnections } from './agent-connections.ts';
import type { TimeSeriesStore } from '../stores/timeseries/index.ts';
import type { DocumentStore } from '../stores/documents/index.ts';
import type { AnalyticsStore } from '../stores/analytics/index.ts';
import type { ApiCallRecorder } from '../analytics/api-call-recorder.ts';
import type { CommandService } from '../commands/service.ts';
import type { ShellService } from '../commands/shell/shell-service.ts';
import type { BulkJobService } from '../commands/bulk/bulk-service.ts';

/** Everything a request handler may use; built once at start by `createApp`. */
export interface Services {
  env: Env;
  instanceId: string;
  log: Logger;
  metrics: Metrics;
  db: RelationalStore;
  cache: CacheStore;
  sessions: Sessions;
  rateLimit: RateLimiter;
  ingest: IngestLog;
  agents: AgentConnections;
  /** Hash of the credential in DATA_DIR that lets the local CLI administer this server. */
  localAdminTokenHash: string;
  /** ClickHouse, or chdb embedded: analytics tables, raw metrics, api_calls. */
  analytics: AnalyticsStore;
  /** Batches every tRPC call into api_calls; absent in tests that build Services by hand. */
  apiCalls?: ApiCallRecorder;
  /** Remote commands: requests, delivery to the device's socket, live output. */
  commands: CommandService;
  shells: ShellService;
  /** Bulk jobs on the `patch-deployment` queue. */
  jobs: BulkJobService;
  /** InfluxDB, or the analytics engine's raw table: device metric series. */
  timeseries: TimeSeriesStore;
  /** MongoDB, or JSONB tables in the relational store: logs and audit_log. */
  documents: DocumentStore;
}
