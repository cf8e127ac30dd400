import { z } from 'zod';
import type { Context } from '../../platform/trpc/context.ts';
import type { SessionUser } from '../../platform/trpc/caller.ts';
import { localAdminRequester, type Requester, SHELLS, resolveDeviceRef } from '../commands/index.ts';
import { localAdminProcedure, router, userProcedure } from '../../platform/trpc/trpc.ts';
import { revocable, scopeOf, type Sessions } from '../auth/index.ts';
import { TERMINAL_COLS, TERMINAL_ROWS } from '@ninjait/shared';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { ShellService } from './shell-service.ts';

/** Stdin per call; a paste larger than this is sent in pieces. */
const MAX_INPUT_CHARS = 16 * 1024;
const sessionInput = z.object({ sessionId: z.uuid() }).strict();
const cols = z.number().int().min(TERMINAL_COLS.min).max(TERMINAL_COLS.max);
const rows = z.number().int().min(TERMINAL_ROWS.min).max(TERMINAL_ROWS.max);

const personOf = (ctx: Context & { user: SessionUser }): Requester => ({
  userId: ctx.user.userId, label: ctx.user.email, organizationId: ctx.user.organizationId, ip: ctx.ip,
});
const localAdminOf = (ctx: Context): Requester => localAdminRequester(ctx.ip);
const sizeInput = { cols: z.number().int().min(TERMINAL_COLS.min).max(TERMINAL_COLS.max), rows: z.number().int().min(TERMINAL_ROWS.min).max(TERMINAL_ROWS.max) };

/** What these procedures use, built in the composition root (app/). */
export interface ShellRouterDeps {
  db: RelationalStore;
  sessions: Sessions;
  shells: ShellService;
}

/** `ninjait shell DEVICE`: the same terminal for the local CLI, audited as local-admin. */
function createLocalShellRouter(deps: ShellRouterDeps) {
  return router({
    open: localAdminProcedure
      .input(z.object({
        device: z.string().min(1).max(255), org: z.string().min(1).max(255).optional(), shell: z.enum(SHELLS).optional(),
        idleTimeoutSec: z.number().int().min(5).max(4 * 60 * 60).optional(), ...sizeInput,
      }).strict())
      .mutation(async ({ ctx, input }) => {
        const { device, org, ...rest } = input;
        const deviceId = await resolveDeviceRef(deps.db, device, org);
        return { deviceId, ...await deps.shells.open(localAdminOf(ctx), { ...rest, deviceId }) };
      }),
    input: localAdminProcedure.input(z.object({ sessionId: z.uuid(), data: z.string().min(1).max(16 * 1024) }).strict())
      .mutation(({ ctx, input }) => deps.shells.input(localAdminOf(ctx), input.sessionId, input.data)),
    resize: localAdminProcedure.input(z.object({ sessionId: z.uuid(), ...sizeInput }).strict())
      .mutation(({ ctx, input }) => deps.shells.resize(localAdminOf(ctx), input.sessionId, input)),
    close: localAdminProcedure.input(z.object({ sessionId: z.uuid() }).strict())
      .mutation(({ ctx, input }) => deps.shells.close(localAdminOf(ctx), input.sessionId)),
    output: localAdminProcedure.input(z.object({ sessionId: z.uuid() }).strict()).subscription(async function* ({ ctx, input, signal }) {
      yield* deps.shells.output(localAdminOf(ctx), input.sessionId, signal);
    }),
  });
}

/**
 * Terminals for technicians: open, type (mutation), resize, watch (subscription), close; and the
 * recordings of past sessions (viewers may replay them). The agent runs a pseudo-terminal where it
 * has one; elsewhere a piped shell, which `opened.pty === false` tells the console.
 */
export function createShellRouter(deps: ShellRouterDeps) {
  return router({
    open: userProcedure('technician')
      .input(z.object({
        deviceId: z.uuid(),
        shell: z.enum(SHELLS).optional(),
        idleTimeoutSec: z.number().int().min(5).max(4 * 60 * 60).optional(),
        cols: cols.optional(),
        rows: rows.optional(),
      }).strict())
      .mutation(({ ctx, input }) => deps.shells.open(personOf(ctx), input)),
    input: userProcedure('technician', { metered: false })
      .input(sessionInput.extend({ data: z.string().min(1).max(MAX_INPUT_CHARS) }).strict())
      .mutation(({ ctx, input }) => deps.shells.input(personOf(ctx), input.sessionId, input.data)),
    resize: userProcedure('technician', { metered: false }).input(sessionInput.extend({ cols, rows }).strict())
      .mutation(({ ctx, input }) => deps.shells.resize(personOf(ctx), input.sessionId, input)),
    /** A device's terminal recordings, newest first. */
    recordings: userProcedure('viewer').input(z.object({ deviceId: z.uuid(), limit: z.number().int().min(1).max(200).default(50) }).strict())
      .query(({ ctx, input }) => deps.shells.recordings({ ...personOf(ctx), userId: null }, input.deviceId, input.limit)),
    /** One recording as asciicast v2 (replayable in the console, or with `asciinema play`). */
    recording: userProcedure('viewer').input(sessionInput)
      .query(({ ctx, input }) => deps.shells.recording({ ...personOf(ctx), userId: null }, input.sessionId)),
    local: createLocalShellRouter(deps),
    close: userProcedure('technician').input(sessionInput)
      .mutation(({ ctx, input }) => deps.shells.close(personOf(ctx), input.sessionId)),
    /**
     * The shell's output. When the session ends (logout, password or role change) or the device is
     * decommissioned, the stream ends and the shell is closed: nobody is left watching or typing.
     */
    output: userProcedure('technician').input(sessionInput).subscription(async function* ({ ctx, input, signal }) {
      const person = personOf(ctx);
      const deviceId = await deps.shells.deviceOf(person, input.sessionId);
      yield* revocable(deps.sessions, scopeOf(ctx, [deviceId]), signal, (ended) => deps.shells.output(person, input.sessionId, ended), {
        onRevoked: async (reason) => {
          await deps.shells.close(person, input.sessionId, reason === 'device' ? 'device decommissioned' : 'session ended');
        },
      });
    }),
  });
}
