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
