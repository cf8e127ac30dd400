/** Limits and defaults for remote commands; units in the names. */
export const MAX_SCRIPT_BYTES = 64 * 1024;
/** Output kept per command; the rest is dropped and the command flagged truncated. */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
/** One chunk from the agent, and one output batch: part of the wire protocol. */
export { MAX_CHUNK_BYTES, MAX_CHUNKS_PER_BATCH } from '@ninjait/shared';
export const MIN_TIMEOUT_SEC = 1;
export const MAX_TIMEOUT_SEC = 24 * 60 * 60;
export const DEFAULT_TIMEOUT_SEC = 300;
export const MIN_EXPIRES_IN_SEC = 1;
export const MAX_EXPIRES_IN_SEC = 7 * 24 * 60 * 60;
export const DEFAULT_EXPIRES_IN_SEC = 60 * 60;
/** A sent or running command the agent stops reporting on is failed this long after its timeout. */
export const REPORT_GRACE_SEC = 120;
export const LIST_PAGE_MAX = 200;
