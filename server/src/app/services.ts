import type { Env } from '../platform/config/index.ts';
import type { Logger } from '../platform/obs/logger.ts';
import type { Metrics } from '../platform/obs/metrics.ts';
import type { RelationalStore } from '../stores/relational/index.ts';
import type { CacheStore } from '../stores/cache/index.ts';
import type { Sessions } from '../features/auth/sessions.ts';
import type { ApiKeys } from '../features/api-keys/index.ts';
import type { RateLimiter } from '../features/auth/rate-limit.ts';
import type { EnrollmentLimit } from '../features/enrollment/enrollment-limit.ts';
import type { IngestLog } from '../features/ingest/ingest-log.ts';
import type { AgentConnections } from '../features/devices/agent-connections.ts';
import type { TimeSeriesStore } from '../stores/timeseries/index.ts';
import type { DocumentStore } from '../stores/documents/index.ts';
import type { AnalyticsStore } from '../stores/analytics/index.ts';
import type { ApiCallRecorder } from '../features/billing/api-call-recorder.ts';
import type { CommandService } from '../features/commands/service.ts';
import type { ShellService } from '../features/shells/shell-service.ts';
import type { BulkJobService } from '../features/bulk-jobs/bulk-service.ts';
// The service's own module, not the feature's index: the index reaches routers, which reach these services.
import type { PatchingService } from '../features/patching/service.ts';
import type { DeviceRpc, RemoteService } from '../features/remote/index.ts';
import type { SecretBox } from '../platform/secret-box.ts';
import type { EventPublisher } from '../features/events/index.ts';
import type { Audit } from '../features/audit/index.ts';

/**
 * Everything the composition root builds once at start (`startServer`). Only app/ sees it whole:
 * each feature's router factory declares the part it uses, and this satisfies every one.
 */
export interface Services {
  env: Env;
  instanceId: string;
  log: Logger;
  metrics: Metrics;
  db: RelationalStore;
  cache: CacheStore;
  sessions: Sessions;
  /** Integrations' long-lived, scoped bearer keys. */
  apiKeys: ApiKeys;
  rateLimit: RateLimiter;
  /** agent.enroll's limit: per token once a token has worked, per address otherwise. */
  enrollmentLimit: EnrollmentLimit;
  ingest: IngestLog;
  agents: AgentConnections;
  /** Seals and opens secrets the server keeps and must read back (OpenID Connect client secrets). */
  secretBox: SecretBox;
  /** Hash of the credential in DATA_DIR that lets the local CLI administer this server. */
  localAdminTokenHash: string;
  /** ClickHouse, or chdb embedded: analytics tables, raw metrics, api_calls. */
  analytics: AnalyticsStore;
  /** Batches every tRPC call into api_calls; absent in tests that build Services by hand. */
  apiCalls?: ApiCallRecorder;
  /** Remote commands: requests, delivery to the device's socket, live output. */
  commands: CommandService;
  shells: ShellService;
  /** Files, processes, services and OS logs of devices; `remoteRpc` carries the requests and answers. */
  remote: RemoteService;
  remoteRpc: DeviceRpc;
  /** Bulk jobs on the `patch-deployment` queue. */
  jobs: BulkJobService;
  /** Software inventory, patch policy and `deploy-patch` work on the same queue. */
  patching: PatchingService;
  /** InfluxDB, or the analytics engine's raw table: device metric series. */
  timeseries: TimeSeriesStore;
  /** MongoDB, or JSONB tables in the relational store: logs and audit_log. */
  documents: DocumentStore;
  /** Where features publish what happened (device, command, ticket, alert events) for the event webhooks. */
  events: EventPublisher;
  /** Writes audit entries (people's changes, enrollments); features get it as an argument. */
  audit: Audit;
}
