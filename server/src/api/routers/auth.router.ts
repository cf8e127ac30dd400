import { z } from 'zod';
import { SESSION_TTL_SEC } from '@ninjait/shared';
import { AppError } from '../../errors.ts';
import { authenticate } from '../../domain/users.ts';
import { SESSION_COOKIE } from '../context.ts';
import { publicProcedure, router, userProcedure } from '../trpc.ts';
import { audit } from '../../audit/index.ts';

/** Login attempts per address and email per rate-limit window, before the account lockout. */
const LOGIN_ATTEMPTS_PER_WINDOW = 20;

/** HttpOnly keeps scripts away from it; SameSite=Strict makes cross-site mutations arrive without it. */
const sessionCookie = (value: string, maxAgeSec: number, secure: boolean) =>
  `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSec}${secure ? '; Secure' : ''}`;

export const authRouter = router({
  login: publicProcedure
    .input(z.object({ email: z.email().max(255), password: z.string().min(1).max(1024) }).strict())
    .mutation(async ({ ctx, input }) => {
      const verdict = await ctx.services.rateLimit(`ip:${ctx.ip}:${input.email.toLowerCase()}`, 'auth.login', LOGIN_ATTEMPTS_PER_WINDOW);
      if (!verdict.allowed) throw new AppError('TOO_MANY_REQUESTS', `Too many login attempts; try again in ${verdict.resetInSec} s`);
      const user = await authenticate(ctx.services.db, input.email, input.password);
      const sessionToken = await ctx.services.sessions.create({
        userId: user.id, email: user.email, role: user.role, organizationId: user.organizationId,
      });
      ctx.setCookie?.(sessionCookie(sessionToken, SESSION_TTL_SEC, ctx.secure));
      await audit(ctx, { action: 'auth.login', resourceId: user.id, userId: user.id, organizationId: user.organizationId });
      return { sessionToken, user };
    }),
  logout: userProcedure().mutation(async ({ ctx }) => {
    await ctx.services.sessions.destroy(ctx.sessionToken, ctx.user.userId);
    ctx.setCookie?.(sessionCookie('', 0, ctx.secure));
    await audit(ctx, { action: 'auth.logout', resourceId: ctx.user.userId });
    return { ok: true };
  }),
  /** The caller and their organization, for the console's header and switcher. */
  me: userProcedure().query(async ({ ctx }) => {
    const { rows } = await ctx.services.db.query<{ name: string }>('SELECT name FROM organizations WHERE id = $1', [ctx.user.organizationId]);
    return { ...ctx.user, organizationName: rows[0]?.name ?? null };
  }),
});
