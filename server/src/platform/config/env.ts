import { z } from 'zod';
import { decodeSecretsKey } from '../secret-box.ts';
import { DEFAULT_PASSWORD_HASH_COST, MAX_PASSWORD_HASH_COST, MIN_PASSWORD_HASH_COST } from '../secrets.ts';
import { DEFAULT_SAMPLE_INTERVAL_MS, DEFAULT_SERVER_PORT, intFromEnv, setVariables } from '@ninjait/shared';

const DEFAULT_RATE_LIMIT_MAX = 100;
const DEFAULT_RATE_LIMIT_WINDOW_SEC = 15 * 60;
const DEFAULT_RATE_LIMIT_READ_MAX = 1_000;
/** Long enough for an agent on a slow link to send its credentials, short enough that idle sockets cost nothing. */
const DEFAULT_WS_AUTH_TIMEOUT_MS = 5_000;
/** Room for a fleet behind one NAT reconnecting at once (each socket authenticates in milliseconds). */
const DEFAULT_WS_UNAUTH_PER_IP_MAX = 200;
/** A week: long enough to notice and look; short enough that an agent with a wrong clock (a record every interval) stays small. */
const DEFAULT_INGEST_QUARANTINE_RETENTION_DAYS = 7;

const optionalUrl = z.url().optional();
/** More server processes than this on one machine is a mistake, not a deployment. */
const MAX_WORKERS = 64;

/** A JetStream name: what NATS accepts in stream names and subject tokens alike. */
const NATS_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Deliveries of a row that keeps failing alone (its store answering) before it is quarantined. */
const DEFAULT_INGEST_LOG_MAX_DELIVERIES = 5;
/** JetStream drops a re-sent record (same `Nats-Msg-Id`) this long; the per-device sequence filters older replays. */
const DEFAULT_INGEST_LOG_DUPLICATE_WINDOW_SEC = 600;

/**
 * A BullMQ prefix: an optional leading `{hashtag}` (the part Redis Cluster and Dragonfly hash on),
 * then plain key characters. One tag at most, and braces nowhere else, so every queue key hashes alike.
 */
const QUEUE_PREFIX_FORM = /^(?:\{[A-Za-z0-9_:-]{1,62}\}[A-Za-z0-9_:-]*|[A-Za-z0-9_:-]+)$/;

/** Bound of `heartbeatOutputSchema.acceptedServerPins`. */
const MAX_NEXT_SPKI_PINS = 8;
/** A SHA-256 digest in standard base64: 43 characters and one `=`. */
const SPKI_PIN = /^[A-Za-z0-9+/]{43}=$/;

/**
 * `pin1,pin2`: SHA-256 SPKI pins in base64, optionally written `sha256/<base64>` as the agent's
 * `--pin` takes them; returned bare.
 */
const spkiPinList = z.string().transform((text, ctx) => {
  const pins = [...new Set(text.split(',').map((item) => item.trim().replace(/^sha256\//, '')).filter(Boolean))];
  if (pins.length > MAX_NEXT_SPKI_PINS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_NEXT_SPKI_PINS} pins` });
  for (const pin of pins) {
    if (!SPKI_PIN.test(pin)) ctx.addIssue({ code: 'custom', message: `"${pin.slice(0, 64)}" is not a base64 SHA-256 SPKI pin (44 characters)` });
  }
  return pins;
});

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
  /** How often a connected agent's heartbeat re-reads its settings (agentIntervalSeconds): a change reaches it within this. */
  AGENT_SETTINGS_REFRESH_MS: intFromEnv(1_000, 3_600_000).default(60_000),
  RATE_LIMIT_MAX: intFromEnv(1, 1_000_000).default(DEFAULT_RATE_LIMIT_MAX),
  RATE_LIMIT_WINDOW_SEC: intFromEnv(1, 86_400).default(DEFAULT_RATE_LIMIT_WINDOW_SEC),
  /** Queries and subscriptions per user and endpoint per window; RATE_LIMIT_MAX applies to mutations. */
  RATE_LIMIT_READ_MAX: intFromEnv(1, 10_000_000).default(DEFAULT_RATE_LIMIT_READ_MAX),
  /**
   * log2 of scrypt's N for new password hashes: 15 is OWASP's floor (50-160 ms of a core a check).
   * Raise it on fast machines; values under 15 are for test runs (npm test uses 10) and warned about.
   */
  PASSWORD_HASH_COST: intFromEnv(MIN_PASSWORD_HASH_COST, MAX_PASSWORD_HASH_COST).default(DEFAULT_PASSWORD_HASH_COST),
  /** How long pushes wait to be committed together; 0 commits as soon as the previous commit ends. */
  INGEST_GROUP_COMMIT_MS: intFromEnv(0, 1_000).default(2),
  DRAIN_BATCH_ROWS: intFromEnv(1, 100_000).default(10_000),
  DRAIN_POLL_MS: intFromEnv(10, 60_000).default(250),
  /** Keep drained ingest-log rows this long (replay into a new store, audits); 0 trims at once. */
  INGEST_LOG_RETENTION_SEC: intFromEnv(0, 30 * 86_400).default(0),
  /** `nats://host:4222`: the ingest log and command routing go to NATS JetStream; the PostgreSQL log when unset. */
  INGEST_LOG_URL: z.url().refine((url) => /^(nats|tls):\/\//.test(url), 'a nats:// (or tls://) URL').optional(),
  /** The JetStream stream (and subject namespace) of the log: one per deployment sharing a NATS. */
  INGEST_LOG_STREAM: z.string().regex(NATS_NAME, 'letters, digits, _ and -, at most 64').default('NINJAIT_INGEST'),
  /** Copies JetStream keeps of each record (a NATS cluster of at least this many servers); an append is acked by that many. */
  INGEST_LOG_REPLICAS: intFromEnv(1, 5).default(1),
  INGEST_LOG_MAX_DELIVERIES: intFromEnv(2, 1_000).default(DEFAULT_INGEST_LOG_MAX_DELIVERIES),
  INGEST_LOG_DUPLICATE_WINDOW_SEC: intFromEnv(1, 86_400).default(DEFAULT_INGEST_LOG_DUPLICATE_WINDOW_SEC),
  /** Records set aside in ingest_quarantine (rows no store could write, implausible times) are deleted after this many days. */
  INGEST_QUARANTINE_RETENTION_DAYS: intFromEnv(1, 3_650).default(DEFAULT_INGEST_QUARANTINE_RETENTION_DAYS),
  /** Serve HTTPS/WSS with this PEM certificate chain and key (both or neither). */
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  /**
   * The certificate keys this server will present next, announced to agents in heartbeats so they
   * add them to the key they pinned at enrollment: set it, let agents check in, then switch keys.
   */
  TLS_NEXT_SPKI_PINS: spkiPinList.optional(),
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
  /** 1: existing buckets keep the retention an operator gave them; by default they are set to 7 days / 90 days / 2 years. */
  INFLUX_KEEP_RETENTION: z.enum(['0', '1', 'true', 'false']).default('0').transform((value) => value === '1' || value === 'true'),
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
  /** Queue work one instance runs at once (patch deployments). */
  BULK_WORKER_CONCURRENCY: intFromEnv(1, 10_000).default(100),
  /**
   * Commands one bulk-job wave hands to agents at most (a job's concurrency caps it too). The
   * agents' replies are group-committed, so a wave as wide as the concurrency costs a few statements.
   */
  BULK_WAVE_SIZE: intFromEnv(1, 10_000).default(1_000),
  /** A WebSocket that has not authenticated (device, session, local admin) this long after opening is closed. */
  WS_AUTH_TIMEOUT_MS: intFromEnv(100, 600_000).default(DEFAULT_WS_AUTH_TIMEOUT_MS),
  /** WebSockets one address (an IPv6 /64) may hold open before they authenticate; more are refused with 429. */
  WS_UNAUTH_PER_IP_MAX: intFromEnv(1, 1_000_000).default(DEFAULT_WS_UNAUTH_PER_IP_MAX),
  /** Bearer token for /metrics and /readyz from beyond loopback; unset, only loopback may read them. */
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').max(512).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces').optional(),
  /**
   * Key prefix of the BullMQ queue `patch-deployment` (tests give each run its own). On Dragonfly
   * use a hashtag, `{ninjait}`: with `--cluster_mode=emulated --lock_on_hashtags` every queue key
   * then lives on one thread, which BullMQ's Lua scripts need there.
   */
  QUEUE_PREFIX: z.string().max(64).regex(QUEUE_PREFIX_FORM, 'letters, digits, _ : - after an optional {hashtag}, e.g. ninjait or {ninjait}').default('ninjait'),
  /**
   * Webhook, Slack and Teams URLs may reach loopback and private addresses (single-machine installs,
   * tests). Link-local and cloud-metadata addresses are refused whatever this says.
   */
  WEBHOOK_ALLOW_PRIVATE: z.enum(['0', '1', 'true', 'false']).default('0').transform((value) => value === '1' || value === 'true'),
  /** SMTP server for email notification channels, e.g. smtp://user:pass@mail.example.com:587; email channels fail without it. */
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'an smtp:// or smtps:// URL').optional(),
  /** The From address of notification email. */
  SMTP_FROM: z.string().min(3).max(320).default('NinjaIT <alerts@ninjait.invalid>'),
  /**
   * 32 bytes (base64 or hex, e.g. from `openssl rand -base64 32`) that encrypt secrets the server must
   * read back (OpenID Connect client secrets). Unset, the key in DATA_DIR/secrets-key is used, made on
   * first start: right for one server; several servers on one database must all be given the same one.
   */
  SECRETS_KEY: z.string().refine((value) => decodeSecretsKey(value) !== null, '32 bytes in base64 (44 characters) or hex (64)').optional(),
  /**
   * Server processes sharing PORT (`serve` only): one event loop is one core, and a machine with
   * more cores serves more agents with one worker per core. Above 1 the stores must live outside
   * the process (DATABASE_URL, REDIS_URL); embedded chdb is shared through the first process.
   */
  WORKERS: intFromEnv(1, MAX_WORKERS).default(1),
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
  if (parsed.success && parsed.data.WORKERS > 1) {
    // PGlite and the in-process cache live inside one process: workers could not share them.
    const missing = (['DATABASE_URL', 'REDIS_URL'] as const).filter((name) => !parsed.data[name]);
    if (missing.length > 0) {
      throw new ConfigError(`Invalid configuration:\n  WORKERS=${parsed.data.WORKERS} needs ${missing.join(' and ')}: the embedded stores live inside one process (set WORKERS=1, or give the server PostgreSQL and Redis)`);
    }
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
