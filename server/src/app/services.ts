import type { Env } from '../config/index.ts';
import type { Logger } from '../obs/logger.ts';
import type { Metrics } from '../obs/metrics.ts';
import type { RelationalStore } from '../stores/relational/index.ts';
import type { CacheStore } from '../stores/cache/index.ts';
import type { Sessions } from '../auth/sessions.ts';
import type { RateLimiter } from '../auth/rate-limit.ts';
import type { IngestLog } from '../ingest/ingest-log.ts';
import type { AgentConnections } from './agent-connections.ts';

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
}
