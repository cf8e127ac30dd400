import { serialize } from 'cookie';
import { SESSION_TTL_SEC } from '@ninjait/shared';
import { SESSION_COOKIE, type Context } from '../../platform/trpc/context.ts';
import type { SessionUser } from './session-store.ts';
import type { Sessions } from './sessions.ts';

/** HttpOnly keeps scripts away from it; SameSite=Strict makes cross-site mutations arrive without it. */
export const sessionCookie = (value: string, maxAgeSec: number, secure: boolean) =>
  serialize(SESSION_COOKIE, value, { httpOnly: true, sameSite: 'strict', path: '/', maxAge: maxAgeSec, secure });

/** Puts a new session in this response's cookie, when the call came over HTTP. */
export function setSessionCookie(ctx: Pick<Context, 'setCookie' | 'secure'>, sessionToken: string): void {
  ctx.setCookie?.(sessionCookie(sessionToken, SESSION_TTL_SEC, ctx.secure));
}

/** Ends the cookie's session in the browser. */
export function clearSessionCookie(ctx: Pick<Context, 'setCookie' | 'secure'>): void {
  ctx.setCookie?.(sessionCookie('', 0, ctx.secure));
}

/**
 * Opens a session for `user` in place of the caller's. A browser gets it as the HttpOnly cookie
 * and no token (as at login, page scripts must never read one); a program (CLI, integration)
 * gets the token to send as a bearer.
 */
export async function replaceSession(sessions: Pick<Sessions, 'create'>, ctx: Context, user: SessionUser): Promise<string | null> {
  const sessionToken = await sessions.create(user);
  if (ctx.fromBrowser && ctx.setCookie) {
    setSessionCookie(ctx, sessionToken);
    return null;
  }
  return sessionToken;
}
