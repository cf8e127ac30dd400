import { z } from 'zod';
import { roleAtLeast, roleSchema } from '@ninjait/shared';
import { AppError } from '../../errors.ts';
import { authenticate, createUser, findUser, listUsers, setPassword, setRole } from '../../domain/users.ts';
import { router, userProcedure } from '../trpc.ts';
import { audit } from '../../audit/index.ts';

export const newUserSchema = z.object({
  email: z.email().max(255),
  password: z.string().min(12, 'Passwords need at least 12 characters').max(1024),
  role: roleSchema,
  name: z.string().min(1).max(255).optional(),
}).strict();

const password = z.string().min(12, 'Passwords need at least 12 characters').max(1024);

export const usersRouter = router({
  list: userProcedure('admin').query(({ ctx }) => listUsers(ctx.services.db, ctx.user.organizationId)),
  create: userProcedure('admin')
    .input(newUserSchema)
    .mutation(async ({ ctx, input }) => {
      // Nobody hands out more power than they hold.
      if (!roleAtLeast(ctx.user.role, input.role)) throw new AppError('FORBIDDEN', `Only an ${input.role} or higher can create an ${input.role}`);
      const user = await createUser(ctx.services.db, { ...input, organizationId: ctx.user.organizationId });
      await audit(ctx, { action: 'user.create', resourceId: user.id, details: { email: user.email, role: user.role } });
      return user;
    }),
  /** Changes the caller's password: every session of theirs ends, and this client gets a new one. */
  changePassword: userProcedure('viewer')
    .input(z.object({ currentPassword: z.string().min(1).max(1024), newPassword: password }).strict())
    .mutation(async ({ ctx, input }) => {
      const user = await authenticate(ctx.services.db, ctx.user.email, input.currentPassword).catch(() => {
        throw new AppError('FORBIDDEN', 'The current password is wrong');
      });
      await setPassword(ctx.services.db, user.id, input.newPassword);
      await ctx.services.sessions.destroyAllFor(user.id);
      const sessionToken = await ctx.services.sessions.create(ctx.user);
      await audit(ctx, { action: 'user.password_change', resourceId: user.id });
      return { sessionToken };
    }),
  /** Changes someone's role; their sessions end so the new role applies at once. */
  setRole: userProcedure('admin')
    .input(z.object({ userId: z.uuid(), role: roleSchema }).strict())
    .mutation(async ({ ctx, input }) => {
      const target = await findUser(ctx.services.db, ctx.user.organizationId, input.userId);
      if (!roleAtLeast(ctx.user.role, input.role) || !roleAtLeast(ctx.user.role, target.role)) {
        throw new AppError('FORBIDDEN', 'You cannot give or take a role above your own');
      }
      const user = await setRole(ctx.services.db, ctx.user.organizationId, input.userId, input.role);
      await ctx.services.sessions.destroyAllFor(user.id);
      await audit(ctx, { action: 'user.update', resourceId: user.id, details: { from: target.role, role: user.role } });
      return user;
    }),
});
