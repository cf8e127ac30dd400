import { TRPCError } from '@trpc/server';

/** The codes the product raises on purpose; each maps to the tRPC code of the same name. */
export const APP_ERROR_CODES = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  /** The agent speaks a wire protocol version this server does not serve. */
  UNSUPPORTED_PROTOCOL: 'PRECONDITION_FAILED',
  UNAVAILABLE: 'SERVICE_UNAVAILABLE',
} as const;
export type AppErrorCode = (typeof APP_ERROR_CODES)[keyof typeof APP_ERROR_CODES];

/** One error class for the whole server; a TRPCError so the adapters map it to HTTP status. */
export class AppError extends TRPCError {
  constructor(code: AppErrorCode, message: string, options: { cause?: unknown } = {}) {
    super({ code, message, cause: options.cause });
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);

/** A PostgreSQL unique violation, the one driver error callers turn into CONFLICT. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === '23505';
}

/** The SQLSTATE of a driver error (pg and PGlite both carry it as `code`), or null. */
function sqlState(error: unknown): string | null {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : null;
}

/**
 * A driver error caused by the values a caller sent rather than by the server: SQLSTATE class 22
 * (data exception: text with a NUL, a number or date out of the column's range, a string too long)
 * and 23514 (a check constraint). These answer BAD_REQUEST instead of an internal error, so no
 * value anyone sends turns into a 500, whichever procedure it reaches.
 */
export function callerCausedDriverError(error: unknown): AppError | null {
  const state = sqlState(error);
  if (state === null || !(state.startsWith('22') || state === '23514')) return null;
  return new AppError('BAD_REQUEST', 'A value in this request cannot be stored (a text with a NUL character, or a number, date or length out of range)', { cause: error });
}
