import { LinkError, type LinkErrorCode } from './types.ts';

/** tRPC error codes we act on, mapped to our own. */
const BY_TRPC_CODE: Record<string, LinkErrorCode> = {
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'UNAUTHORIZED',
  BAD_REQUEST: 'BAD_REQUEST',
  PARSE_ERROR: 'BAD_REQUEST',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  TIMEOUT: 'TIMEOUT',
};

/** The tRPC error code carried by a TRPCClientError (or its wire shape), if any. */
export function trpcCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const data = (err as { data?: unknown }).data;
  if (typeof data === 'object' && data !== null) {
    const code = (data as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Turns anything a call threw into a LinkError; unknown failures count as transient. */
export function classify(err: unknown, signal?: AbortSignal): LinkError {
  if (err instanceof LinkError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (signal?.aborted && signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError') {
    return new LinkError('TIMEOUT', message, { cause: err });
  }
  const code = trpcCode(err);
  return new LinkError((code && BY_TRPC_CODE[code]) || 'TRANSIENT', message, { cause: err });
}
