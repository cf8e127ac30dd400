import { z } from 'zod';
import { roleAtLeast, roleSchema } from '@ninjait/shared';
import { AppError } from '../../errors.ts';
import { createUser, listUsers } from '../../domain/users.ts';
import { router, userProcedure } from '../trpc.ts';

export const newUserSchema = z.object({
  email: z.email().max(255),
  password: z.string().min(12, 'Passwords need at least 12 characters').max(1024),
  role: roleSchema,
  name: z.string().min(1).max(255).optional(),
}).strict();

export const usersRouter = router({
  list: userProcedure('admin').query(({ ctx }) => listUsers(ctx.services.db, ctx.user.organizationId)),
  create: userProcedure('admin')
    .input(newUserSchema)
    .mutation(({ ctx, input }) => {
      // Nobody hands out more power than they hold.
      if (!roleAtLeast(ctx.user.role, input.role)) throw new AppError('FORBIDDEN', `Only an ${input.role} or higher can create an ${input.role}`);
      return createUser(ctx.services.db, { ...input, organizationId: ctx.user.organizationId });
    }),
});
