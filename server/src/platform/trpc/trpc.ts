import { initTRPC } from '@trpc/server';
import { ZodError, z } from 'zod';
import { API_KEY_PREFIX, roleAtLeast, type Role } from '@ninjait/shared';
import { AppError, callerCausedDriverError } from '../errors.ts';
import { secretMatches } from '../secrets.ts';
import type { Context } from './context.ts';
import { recordApiCall } from './api-calls.ts';

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? error.cause : null;
    const internal = error.code === 'INTERNAL_SERVER_ERROR';
    return {
      ...shape,
      // Driver messages can carry SQL or values; people get a generic message, the log gets the rest.
      message: internal ? 'Internal server error' : shape.message,
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        zodError: zodError ? z.flattenError(zodError) : null,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const middleware = t.middleware;

/**
 * Logs unexpected errors once, with the procedure path; expected ones are the caller's business.
 * A driver error caused by the values sent (see callerCausedDriverError) becomes BAD_REQUEST instead.
 */
const logUnexpected = t.middleware(async ({ ctx, path, next }) => {
  const result = await next();
  if (!result.ok && result.error.code === 'INTERNAL_SERVER_ERROR') {
    const callerCaused = callerCausedDriverError(result.error.cause);
    if (callerCaused) throw callerCaused;
    ctx.gate.log.error({ err: result.error.cause ?? result.error, path }, 'procedure failed');
  }
  return result;
});

export const publicProcedure = t.procedure.use(recordApiCall).use(logUnexpected);

/**
 * What a session opened without the second factor its organization requires may call: who am I,
 * log out, and setting the factor up (features/auth/two-factor.router.ts).
 */
const OPEN_WHILE_RESTRICTED = new Set(['auth.me', 'auth.logout', 'auth.sessions', 'twoFactor.status', 'twoFactor.begin', 'twoFactor.confirm']);

/**
 * A person with a live session and at least `role`, within the rate limit for this endpoint.
 * `metered: false` is for the steps of something already opened under the limit (keystrokes of
 * a terminal, chunks of a file transfer): one terminal or one 1 GB download must not spend a
 * budget meant for actions.
 */
export function userProcedure(role: Role = 'viewer', options: { metered?: boolean } = {}) {
  return publicProcedure.use(async ({ ctx, path, type, next }) => {
    const token = ctx.sessionToken;
    // An API key (`nk_…`) acts as its creator, narrowed to its scopes; anything else is a session.
    const user = !token ? null
      : token.startsWith(API_KEY_PREFIX) ? await ctx.gate.apiKey(token, path, type, ctx.ip)
      : await ctx.gate.session(token);
    if (!user) throw new AppError('UNAUTHORIZED', 'Log in first: no valid session');
    if (user.restricted && !OPEN_WHILE_RESTRICTED.has(path)) {
      throw new AppError('FORBIDDEN', 'Your organization requires two-factor sign-in: set it up under My account first');
    }
    if (!roleAtLeast(user.role, role)) throw new AppError('FORBIDDEN', `This needs the ${role} role or higher`);
    if (options.metered === false) return next({ ctx: { ...ctx, user, sessionToken: ctx.sessionToken! } });
    // Mutations get the strategy's budget; reads get their own, larger one, since a console
    // page issues several of them.
    const verdict = await ctx.gate.rateLimit(user.userId, path, type === 'mutation' ? undefined : 'read');
    if (!verdict.allowed) throw new AppError('TOO_MANY_REQUESTS', `Rate limit reached for ${path}; try again in ${verdict.resetInSec} s`);
    return next({ ctx: { ...ctx, user, sessionToken: ctx.sessionToken! } });
  });
}

/** An enrolled device, authenticated once when its socket connected. */
export const agentProcedure = publicProcedure.use(({ ctx, next }) => {
  if (ctx.deviceAuthError) throw ctx.deviceAuthError;
  if (!ctx.device) throw new AppError('UNAUTHORIZED', 'Agent calls need device credentials (connect with deviceId and deviceSecret)');
  return next({ ctx: { ...ctx, device: ctx.device } });
});

/** The local CLI, proven by the credential file in DATA_DIR and a loopback address. */
export const localAdminProcedure = publicProcedure.use(({ ctx, next }) => {
  const token = ctx.localAdminToken;
  if (!token || !secretMatches(token, ctx.gate.localAdminTokenHash)) {
    throw new AppError('UNAUTHORIZED', 'Local admin calls need the credential from DATA_DIR, from this machine');
  }
  return next({ ctx });
});

