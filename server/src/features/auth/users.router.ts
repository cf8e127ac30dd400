import { z } from 'zod';
import { roleSchema, storableText } from '@ninjait/shared';
import { AppError } from '../../platform/errors.ts';
import { checkLogin, withPasswordGate } from './login.ts';
import { createUser, findUser, generatePassword, listUsers, listPersonNames, removeUser, setPassword, setRole } from './users.ts';
import { assertMayGrant, assertMayResetPassword, removalGuard, roleChangeGuard } from './people-rules.ts';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { replaceSession } from './session-cookie.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Sessions } from './sessions.ts';
import type { FailedLoginDeps } from './failed-login-audit.ts';

/** A new password, wherever one is set (the reset link's page too). */
export const password = z.string().min(12, 'Passwords need at least 12 characters').max(1024);
/** A person's or organization's name: any text a person types, made storable (PostgreSQL refuses NUL and lone surrogates). */
export const displayName = z.string().trim().min(1).max(255).transform(storableText);

export const newUserSchema = z.object({
  email: z.email().max(255),
  password,
  role: roleSchema,
  name: displayName.optional(),
}).strict();

/** The console's form: without a password the server makes one and shows it once. */
const addPersonSchema = newUserSchema.extend({ password: password.optional() }).strict();
const personInput = z.object({ userId: z.uuid() }).strict();

/** What these procedures use, built in the composition root (app/). */
export interface UsersRouterDeps extends FailedLoginDeps {
  audit: Audit;
  db: RelationalStore;
  sessions: Sessions;
}

/**
 * People of the caller's organization. Every id names someone in that organization, or is
 * NOT_FOUND; who may change whom is features/auth/people-rules.ts; every password is checked or hashed
 * in the password queue (features/auth/login.ts); every change is audited and ends the sessions it affects.
 */
export function createUsersRouter(deps: UsersRouterDeps) {
  return router({
  /** The organization's people; `includeRemoved` adds those removed (with `removedAt`), for naming them in history. */
  list: userProcedure('admin')
    .input(z.object({ includeRemoved: z.boolean().default(false) }).strict().default({ includeRemoved: false }))
    .query(({ ctx, input }) => listUsers(deps.db, ctx.user.organizationId, input)),

  /** Names of the organization's people, for anyone in it: tickets, reports and history say who, not an id. */
  names: userProcedure('viewer').query(({ ctx }) => listPersonNames(deps.db, ctx.user.organizationId)),

  /** Adds someone; `initialPassword` is the one the server made (shown once), null when the admin set it. */
  create: userProcedure('admin')
    .input(addPersonSchema)
    .mutation(async ({ ctx, input }) => {
      assertMayGrant(ctx.user, input.role);
      const initialPassword = input.password ? null : generatePassword();
      const user = await withPasswordGate(ctx.ip, () => createUser(deps.db, {
        ...input, password: input.password ?? initialPassword!, organizationId: ctx.user.organizationId,
      }));
      await deps.audit(ctx, { action: 'user.create', resourceId: user.id, details: { email: user.email, name: user.name, role: user.role } });
      return { ...user, initialPassword };
    }),

  /**
   * Changes the caller's password. The current one is checked like a login (the same throttle,
   * queue and failed-login audit), so a stolen session cannot guess it faster than a login could.
   * Every session of theirs ends; this client gets a new one.
   */
  changePassword: userProcedure('viewer')
    .input(z.object({ currentPassword: z.string().min(1).max(1024), newPassword: password }).strict())
    .mutation(async ({ ctx, input }) => {
      const user = await checkLogin(deps, { ip: ctx.ip, email: ctx.user.email, password: input.currentPassword, purpose: 'password_change' })
        .catch((error: unknown) => {
          // UNAUTHORIZED would tell the console the session ended; it did not.
          if (error instanceof AppError && error.code === 'UNAUTHORIZED') throw new AppError('FORBIDDEN', 'The current password is wrong');
          throw error;
        });
      if (user.id !== ctx.user.userId) throw new AppError('UNAUTHORIZED', 'Log in again: this session belongs to an account that changed');
      await withPasswordGate(ctx.ip, () => setPassword(deps.db, user.id, input.newPassword));
      await deps.sessions.destroyAllFor(user.id);
      const sessionToken = await replaceSession(deps.sessions, ctx, ctx.user);
      await deps.audit(ctx, { action: 'user.password_change', resourceId: user.id });
      return { sessionToken };
    }),

  /** Sets someone else's password (an admin's reset); `password` null means the one given was used. Their sessions end. */
  resetPassword: userProcedure('admin')
    .input(personInput.extend({ password: password.optional() }).strict())
    .mutation(async ({ ctx, input }) => {
      const target = await findUser(deps.db, ctx.user.organizationId, input.userId);
      assertMayResetPassword(ctx.user, target);
      const generated = input.password ? null : generatePassword();
      await withPasswordGate(ctx.ip, () => setPassword(deps.db, target.id, input.password ?? generated!));
      await deps.sessions.destroyAllFor(target.id);
      await deps.audit(ctx, { action: 'user.password_reset', resourceId: target.id, details: { email: target.email, generated: generated !== null } });
      return { password: generated };
    }),

  /** Changes someone's role; their sessions end so the new role applies at once. */
  setRole: userProcedure('admin')
    .input(personInput.extend({ role: roleSchema }).strict())
    .mutation(async ({ ctx, input }) => {
      let from: string | undefined;
      const user = await setRole(deps.db, ctx.user.organizationId, input.userId, input.role, (target, owners) => {
        from = target.role;
        roleChangeGuard(ctx.user, input.role)(target, owners);
      });
      await deps.sessions.destroyAllFor(user.id);
      await deps.audit(ctx, { action: 'user.update', resourceId: user.id, details: { email: user.email, from, role: user.role } });
      return user;
    }),

  /** Removes someone from the organization: they cannot log in any more; what they did stays in the history. */
  remove: userProcedure('admin')
    .input(personInput)
    .mutation(async ({ ctx, input }) => {
      const user = await removeUser(deps.db, ctx.user.organizationId, input.userId, removalGuard(ctx.user));
      await deps.sessions.destroyAllFor(user.id);
      await deps.audit(ctx, { action: 'user.delete', resourceId: user.id, details: { email: user.email, name: user.name, role: user.role } });
      return { id: user.id };
    }),
});
}
