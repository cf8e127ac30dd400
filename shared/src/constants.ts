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
