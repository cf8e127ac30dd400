import { ServerKeyMismatchError } from './tls-connect.ts';

/** A server answered, but not as the NinjaIT API does (an HTML page, a 404, an empty body). */
export class NotNinjaitServerError extends Error {
  override readonly name = 'NotNinjaitServerError';
  constructor(url: string, status: number, contentType: string | null) {
    super(
      `${new URL(url).origin} answered ${url.replace(/\?.*$/, '')} with HTTP ${status} and ${contentType ? `"${contentType.split(';')[0]}"` : 'no content type'}, ` +
      'not the NinjaIT API: is this the NinjaIT server\'s base URL (the address of its console)?',
    );
  }
}

const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED', 'CERT_REVOKED', 'CERT_SIGNATURE_FAILURE',
]);
const MAX_CAUSES = 8;

/** What Node's socket and TLS errors carry. */
interface SocketError extends Error {
  code: string;
  address?: string;
  port?: number;
}

/**
 * `err` and what caused it, outermost first: `cause` links, and the `error` a WebSocket error
 * event carries (tRPC's socket errors end in one).
 */
function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e: unknown = err; e !== undefined && e !== null && chain.length < MAX_CAUSES;) {
    chain.push(e);
    const { cause, error } = e as { cause?: unknown; error?: unknown };
    e = cause ?? (error instanceof Error ? error : undefined);
  }
  return chain;
}

/** Whether `err` or one of its causes is a `type`. */
export function hasCause(err: unknown, type: new (...args: never[]) => Error): boolean {
  return causes(err).some((e) => e instanceof type);
}

/**
 * One line a person can act on, from the most specific error in the `cause` chain: a refused
 * connection, a failed DNS lookup, a certificate nobody vouches for, a key that is not the pinned
 * one, a server that is not NinjaIT. "fetch failed" alone says none of that.
 */
export function describeConnectionError(err: unknown): string {
  const chain = causes(err);
  const specific = chain.find((e) => e instanceof ServerKeyMismatchError || e instanceof NotNinjaitServerError);
  if (specific) return (specific as Error).message;
  // The innermost code is the most specific (our LinkError's TRANSIENT wraps a socket's ECONNREFUSED).
  const withCode = [...chain].reverse().find((e): e is SocketError => typeof (e as SocketError | null)?.code === 'string');
  const innermost = chain[chain.length - 1];
  if (!withCode) return plainMessage(innermost);
  const { code, message } = withCode;
  const where = withCode.address ? ` ${withCode.address}:${withCode.port ?? ''}` : '';
  if (code === 'ECONNREFUSED') return `connection refused (ECONNREFUSED${where}): nothing listens there; is the server running and the port right?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `DNS lookup failed (${code}: ${message}): check the host name`;
  if (code === 'ETIMEDOUT' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `${message} (${code})`;
  if (code && CERTIFICATE_CODES.has(code)) {
    return `the server's TLS certificate is not trusted (${code}: ${message}): pass --ca-file with the CA that signed it, ` +
      'or --pin sha256/<base64 SHA-256 of its public key> to trust that key alone';
  }
  if (code === 'EPROTO' || code.startsWith('ERR_SSL')) return `TLS handshake failed (${code}): does the server speak https:// on this port?`;
  return `${message} (${code})`;
}

/** An error's message; a WebSocket close event's code and reason. */
function plainMessage(e: unknown): string {
  const { message, code, reason } = (e ?? {}) as { message?: unknown; code?: unknown; reason?: unknown };
  if (typeof message === 'string' && message !== '') return message;
  if (typeof code === 'number') return `the connection was closed (${code}${typeof reason === 'string' && reason ? `: ${reason}` : ''})`;
  return String(e);
}
