import { z } from 'zod';
import type { Context } from '../../platform/trpc/context.ts';
import { revocable, scopeOf, type SessionUser, type Sessions } from '../auth/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { localAdminRequester, type Requester } from './requests.ts';
import { decodeCursor, encodeCursor, idInputSchema, listInputSchema, runInputSchema } from './schemas.ts';
import { resolveDeviceRef } from './device-ref.ts';
import { isOrganizationDevice } from './repository.ts';
import { localAdminProcedure, router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { CommandService } from './service.ts';

const personOf = (ctx: Context & { user: SessionUser }): Requester => ({
  userId: ctx.user.userId, label: ctx.user.email, organizationId: ctx.user.organizationId, ip: ctx.ip,
});
const localAdminOf = (ctx: Context): Requester => localAdminRequester(ctx.ip);

/** What these procedures use, built in the composition root (app/). */
export interface CommandsRouterDeps {
  commands: CommandService;
  db: RelationalStore;
  sessions: Sessions;
}

/**
 * The local CLI (`ninjait run`) acts as the machine's administrator across organizations, like
 * `ninjait devices`: it is audited as `local-admin` in the device's organization.
 */
function createLocalRouter(deps: CommandsRouterDeps) {
  return router({
    run: localAdminProcedure
      .input(runInputSchema.omit({ deviceId: true }).extend({
        device: z.string().min(1).max(255),
        org: z.string().min(1).max(255).optional(),
      }).strict())
      .mutation(async ({ ctx, input }) => {
        const { device, org, ...rest } = input;
        const deviceId = await resolveDeviceRef(deps.db, device, org);
        return deps.commands.run(localAdminOf(ctx), { ...rest, deviceId });
      }),
    cancel: localAdminProcedure.input(idInputSchema)
      .mutation(({ ctx, input }) => deps.commands.cancel(localAdminOf(ctx), input.id)),
    output: localAdminProcedure.input(idInputSchema).subscription(async function* ({ input, signal }) {
      yield* deps.commands.output(null, input.id, signal);
    }),
  });
}

export function createCommandsRouter(deps: CommandsRouterDeps) {
  return router({
    run: userProcedure('technician').input(runInputSchema)
      .mutation(({ ctx, input }) => deps.commands.run(personOf(ctx), input)),
    cancel: userProcedure('technician').input(idInputSchema)
      .mutation(({ ctx, input }) => deps.commands.cancel(personOf(ctx), input.id)),
    /** One command with its stored output (at most 1 MiB), readable after the fact. */
    get: userProcedure('viewer').input(idInputSchema).query(async ({ ctx, input }) => {
      const command = await deps.commands.get(ctx.user.organizationId, input.id);
      return { ...command, output: await deps.commands.storedOutput(command.id) };
    }),
    /** Newest first, per organization or per device, filtered by status; keyset pages. */
    list: userProcedure('viewer').input(listInputSchema).query(async ({ ctx, input }) => {
      const before = decodeCursor(input.cursor);
      if (input.cursor && !before) throw new AppError('BAD_REQUEST', 'The cursor is not valid');
      if (input.deviceId) {
        if (!(await isOrganizationDevice(deps.db, ctx.user.organizationId, input.deviceId))) throw notFound('Device');
      }
      const items = await deps.commands.list({ ...input, organizationId: ctx.user.organizationId, before, limit: input.limit });
      const last = items.length === input.limit ? items[items.length - 1] : undefined;
      return { items, nextCursor: last ? encodeCursor(last) : null };
    }),
    /**
     * Live output: what is stored first, then live chunks, ending with the result. Ends early when
     * the session does (logout, password or role change) or the command's device is decommissioned.
     */
    output: userProcedure('viewer').input(idInputSchema).subscription(async function* ({ ctx, input, signal }) {
      const { deviceId } = await deps.commands.get(ctx.user.organizationId, input.id);
      yield* revocable(deps.sessions, scopeOf(ctx, [deviceId]), signal,
        (ended) => deps.commands.output(ctx.user.organizationId, input.id, ended));
    }),
    local: createLocalRouter(deps),
  });
}
