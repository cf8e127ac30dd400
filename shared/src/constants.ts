/** Defaults shared by agent, server and console. Units are in the names. */
export const DEFAULT_SERVER_PORT = 3000;
export const DEFAULT_SAMPLE_INTERVAL_MS = 30_000;
/** A device is offline after this many missed intervals. */
export const OFFLINE_AFTER_INTERVALS = 3;
/** Upper bound on records per push; the agent sends at most this many. */
export const MAX_RECORDS_PER_PUSH = 1_000;
/** Upper bound on one serialized push, checked before parsing. */
export const MAX_PUSH_BYTES = 4 * 1024 * 1024;
export const SESSION_TTL_SEC = 24 * 60 * 60;
export const AGENT_VERSION = '0.1.0';

/**
 * The oldest record worth sending: the agent's outbox drops (and counts) records older than
 * this, and the server quarantines them on arrival instead of storing them. A month covers any
 * outage an agent's buffer is sized for, and keeps rollups from reopening months long closed.
 */
export const MAX_RECORD_AGE_MS = 30 * 24 * 60 * 60 * 1000;
/**
 * How far ahead of the server's clock a record's collection time may be. Further ahead, the
 * agent's clock is wrong: the record is quarantined on arrival, because a future `last_seen`
 * would keep a dead device "online" until that time.
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
/**
 * The latest time any field may carry: the end of year 9999. Every store and every ISO-8601
 * formatter holds it; a value past it is not a time a clock shows, so the schema refuses it.
 */
export const LATEST_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/**
 * Byte counts and rates: the largest integer a double holds exactly (8 PiB). A sum over the
 * schema's 256 disks or interfaces still fits ClickHouse's UInt64 and prints without an exponent.
 */
export const MAX_BYTES = Number.MAX_SAFE_INTEGER;
/** A century of uptime. */
export const MAX_UPTIME_SEC = 100 * 365 * 24 * 60 * 60;
export const MAX_CPU_CORES = 65_536;
/** Disks and interfaces per sample and per inventory. */
export const MAX_SAMPLE_ITEMS = 256;
/** Per-core loads per sample. */
export const MAX_CORES_PER_SAMPLE = 1_024;
export const MAX_CPU_GHZ = 1_000;

/**
 * What a login answers (UNAUTHORIZED) when the account has a second factor and the call carried
 * no code: the console then asks for the code and sends the login again with it.
 */
export const SECOND_FACTOR_REQUIRED = 'Enter the 6-digit code from your authenticator app (or a recovery code)';
