/**
 * Whether a failed write may succeed if retried unchanged: the store (or the way to it) is
 * down, busy or restarting. The opposite is a row the store refuses (a value it cannot parse
 * or hold), which fails the same way every time and must be isolated and quarantined rather
 * than retried. Errors this does not recognise count as retryable: a wrong "retryable" only
 * delays (the drainer isolates a batch that keeps failing while the store takes other writes),
 * a wrong "not retryable" could quarantine rows during an outage.
 */
export function isRetryableWriteError(error: unknown): boolean {
  for (const cause of causes(error)) {
    if (cause.name === 'AbortError' || cause.name === 'TimeoutError') return true;
    if (typeof cause.code === 'string' && TRANSIENT_NETWORK_CODES.has(cause.code)) return true;
  }
  const top = asRecord(error);
  const postgres = sqlState(top);
  if (postgres) return !ROW_SQLSTATE_CLASSES.has(postgres.slice(0, 2));
  const clickhouse = clickhouseCode(top);
  if (clickhouse !== null) return !CLICKHOUSE_ROW_CODES.has(clickhouse);
  if (top.name === 'ReplyError') return REDIS_TRANSIENT_REPLIES.some((prefix) => String(top.message).startsWith(prefix));
  // Thrown by our own code while converting a row (a missing field, a bad date): the row's fault.
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) return false;
  return true;
}

/** Node and undici codes for a connection that failed, dropped or timed out. */
const TRANSIENT_NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'ESOCKETTIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ERR_SOCKET_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

/** SQLSTATE classes a row causes: 22 data exception (bad value, out of range), 23 integrity constraint. */
const ROW_SQLSTATE_CLASSES = new Set(['22', '23']);

/**
 * ClickHouse codes for input it cannot parse or convert: CANNOT_PARSE_TEXT (6), ..._QUOTED_STRING (26),
 * ..._INPUT_ASSERTION_FAILED (27), ..._DATE (38), ..._DATETIME (41), TYPE_MISMATCH (53),
 * ARGUMENT_OUT_OF_BOUND (69), CANNOT_CONVERT_TYPE (70), CANNOT_PARSE_NUMBER (72), INCORRECT_DATA (117),
 * CANNOT_READ_ARRAY_FROM_TEXT (130), TOO_LARGE_STRING_SIZE (131), VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE (321).
 */
const CLICKHOUSE_ROW_CODES = new Set([6, 26, 27, 38, 41, 53, 69, 70, 72, 117, 130, 131, 321]);

/** Redis replies that describe the server's state, not the command's arguments. */
const REDIS_TRANSIENT_REPLIES = ['OOM', 'LOADING', 'BUSY', 'READONLY', 'MASTERDOWN', 'TRYAGAIN', 'CLUSTERDOWN', 'NOREPLICAS', 'MOVED', 'ASK'];

type ErrorRecord = { name?: unknown; code?: unknown; message?: unknown; severity?: unknown; clickhouseCode?: unknown; type?: unknown; cause?: unknown };

const asRecord = (value: unknown): ErrorRecord => (typeof value === 'object' && value !== null ? value as ErrorRecord : {});

/** The error and its causes, a few levels deep (drivers wrap socket errors). */
function causes(error: unknown): ErrorRecord[] {
  const chain: ErrorRecord[] = [];
  for (let current: unknown = error, depth = 0; current && depth < 5; current = asRecord(current).cause, depth++) chain.push(asRecord(current));
  return chain;
}

/** pg's DatabaseError and PGlite's errors carry the SQLSTATE in `code` and a `severity`. */
function sqlState(error: ErrorRecord): string | null {
  return typeof error.code === 'string' && typeof error.severity === 'string' && /^[0-9A-Z]{5}$/.test(error.code) ? error.code : null;
}

/** chdb's ChdbInsertError has `clickhouseCode`; @clickhouse/client's ClickHouseError a numeric `code` and a `type`. */
function clickhouseCode(error: ErrorRecord): number | null {
  if (typeof error.clickhouseCode === 'number') return error.clickhouseCode;
  if (typeof error.code === 'string' && /^\d+$/.test(error.code) && typeof error.type === 'string') return Number(error.code);
  const match = typeof error.message === 'string' ? /^Code: (\d+)\. DB::Exception/.exec(error.message) : null;
  return match ? Number(match[1]) : null;
}
