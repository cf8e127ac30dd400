import { z } from 'zod';
import { DEFAULT_SAMPLE_INTERVAL_MS, DEFAULT_SERVER_PORT, intFromEnv, setVariables } from '@ninjait/shared';

const DEFAULT_RATE_LIMIT_MAX = 100;
const DEFAULT_RATE_LIMIT_WINDOW_SEC = 15 * 60;
const DEFAULT_RATE_LIMIT_READ_MAX = 1_000;

const optionalUrl = z.url().optional();

/** Every variable the server reads. `process.env` is read nowhere else. */
export const envSchema = z.object({
  PORT: intFromEnv(0, 65_535).default(DEFAULT_SERVER_PORT),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** PostgreSQL; PGlite in DATA_DIR when unset. */
  DATABASE_URL: optionalUrl,
  /** Redis or Dragonfly; in-process cache when unset. */
  REDIS_URL: optionalUrl,
  /** Prepended to every cache key, to share one Redis between deployments (or test runs). */
  REDIS_KEY_PREFIX: z.string().max(64).regex(/^[A-Za-z0-9_:.-]*$/).default(''),
  /** The interval agents are told to report at. */
  AGENT_INTERVAL_MS: intFromEnv(1_000, 3_600_000).default(DEFAULT_SAMPLE_INTERVAL_MS),
  RATE_LIMIT_MAX: intFromEnv(1, 1_000_000).default(DEFAULT_RATE_LIMIT_MAX),
  RATE_LIMIT_WINDOW_SEC: intFromEnv(1, 86_400).default(DEFAULT_RATE_LIMIT_WINDOW_SEC),
  /** Queries and subscriptions per user and endpoint per window; RATE_LIMIT_MAX applies to mutations. */
  RATE_LIMIT_READ_MAX: intFromEnv(1, 10_000_000).default(DEFAULT_RATE_LIMIT_READ_MAX),
  /** How long pushes wait to be committed together; 0 commits as soon as the previous commit ends. */
  INGEST_GROUP_COMMIT_MS: intFromEnv(0, 1_000).default(2),
  DRAIN_BATCH_ROWS: intFromEnv(1, 100_000).default(10_000),
  DRAIN_POLL_MS: intFromEnv(10, 60_000).default(250),
  /** Keep drained ingest-log rows this long (replay into a new store, audits); 0 trims at once. */
  INGEST_LOG_RETENTION_SEC: intFromEnv(0, 30 * 86_400).default(0),
  /** Serve HTTPS/WSS with this PEM certificate chain and key (both or neither). */
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  /** Identifies this instance in drainer leases and logs. */
  INSTANCE_ID: z.string().min(1).max(128).optional(),
  /** ClickHouse over HTTP; chdb (embedded) in DATA_DIR/chdb when unset. */
  CLICKHOUSE_URL: optionalUrl,
  CLICKHOUSE_USER: z.string().min(1).default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('default'),
  /** Analytics queries slower than this are logged with their text. */
  ANALYTICS_SLOW_QUERY_MS: intFromEnv(1, 600_000).default(1_000),
  /** api_calls rows are flushed every this often, or sooner when API_CALLS_BATCH_ROWS are waiting. */
  API_CALLS_FLUSH_MS: intFromEnv(10, 60_000).default(1_000),
  API_CALLS_BATCH_ROWS: intFromEnv(1, 100_000).default(1_000),
  /** Rows kept in memory while ClickHouse is down; past it the newest are dropped and counted. */
  API_CALLS_BUFFER_MAX_ROWS: intFromEnv(1, 10_000_000).default(100_000),
  /** ClickHouse partitions older than this go to Parquet (S3_URL, or DATA_DIR/archive) and leave hot storage. */
  ARCHIVE_AFTER_DAYS: intFromEnv(1, 36_500).default(90),
  /** S3-compatible bucket URL for archives, e.g. https://s3.example.com/bucket/ninjait; DATA_DIR/archive when unset. */
  S3_URL: optionalUrl,
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** InfluxDB 2 (all four set): raw series + 5 m / 1 h rollup buckets; the embedded raw table otherwise. */
  INFLUX_URL: optionalUrl,
  INFLUX_TOKEN: z.string().min(1).optional(),
  INFLUX_ORG: z.string().min(1).max(255).optional(),
  INFLUX_BUCKET: z.string().min(1).max(255).regex(/^[^"\\]+$/, 'no quotes or backslashes').optional(),
  /** MongoDB for logs and audit_log; JSONB tables in the relational store when unset. */
  MONGODB_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// or mongodb+srv:// URL').optional(),
  MONGODB_DATABASE: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('ninjait'),
  /** Time-series and document queries slower than this are logged with their text. */
  SLOW_QUERY_MS: intFromEnv(1, 600_000).default(500),
  /** Logs (warnings, errors, agents' errors) older than this are deleted (a TTL index on MongoDB). */
  LOG_RETENTION_DAYS: intFromEnv(1, 3_650).default(30),
  /** How often store sizes (PostgreSQL, documents) are sampled into gauges. */
  STORE_SIZE_SAMPLE_MS: intFromEnv(1_000, 86_400_000).default(60_000),
  /** Signed agent releases (metadata JSON + packages, see installers/README.md); DATA_DIR/releases when unset. */
  RELEASES_DIR: z.string().min(1).optional(),
  /** The URL agents and browsers reach this server at; install lines use it. Else taken from the request. */
  PUBLIC_URL: optionalUrl,
  /** Bulk-job targets (devices) one instance works on at once, across jobs (BullMQ worker concurrency). */
  BULK_WORKER_CONCURRENCY: intFromEnv(1, 10_000).default(100),
  /** Key prefix of the BullMQ queue `patch-deployment` (tests give each run its own). */
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_:-]{1,64}$/).default('ninjait'),
});

export type Env = z.infer<typeof envSchema>;

const SECRET_BEARING = /URL|TOKEN|PASSWORD|SECRET|KEY/;

/** A bad variable stops the server with a message that names it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(setVariables(Object.keys(envSchema.shape), source));
  if (parsed.success && Boolean(parsed.data.TLS_CERT_FILE) !== Boolean(parsed.data.TLS_KEY_FILE)) {
    throw new ConfigError('Invalid configuration:\n  TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  }
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.join('.');
    // URLs and keys can carry credentials: name them, never print them.
    const shown = SECRET_BEARING.test(name) ? '(value hidden)' : JSON.stringify(source[name] ?? '');
    return `${name}=${shown}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
}
