import { z } from 'zod';
import { remoteOps, type PersonRemoteOpKind } from '@ninjait/shared';
import type { Context } from '../../platform/trpc/context.ts';
import type { SessionUser } from '../../platform/trpc/caller.ts';
import { localAdminRequester, type Requester, resolveDeviceRef } from '../commands/index.ts';
import { localAdminProcedure, router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { RemoteService } from './service.ts';
import { CHUNK_PROCEDURE } from './download-route.ts';
import { UPLOAD_CHUNK_PROCEDURE } from './upload-route.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';

const personOf = (ctx: Context & { user: SessionUser }): Requester => ({
  userId: ctx.user.userId, label: ctx.user.email, organizationId: ctx.user.organizationId, ip: ctx.ip,
});
const localAdminOf = (ctx: Context): Requester => localAdminRequester(ctx.ip);

const deviceId = { deviceId: z.uuid() };

/** Which service method performs each op (the local CLI reaches them all through one procedure). */
const METHODS = {
  'fs.list': 'list', 'fs.mkdir': 'mkdir', 'fs.uploadBegin': 'uploadBegin', 'fs.uploadChunk': 'uploadChunk', 'fs.uploadFinish': 'uploadFinish',
  'fs.uploadAbort': 'uploadAbort', 'fs.downloadBegin': 'downloadBegin', 'fs.downloadChunk': 'downloadChunk',
  'proc.list': 'processes', 'proc.kill': 'kill', 'svc.list': 'services', 'svc.control': 'controlService', 'logs.query': 'logs',
} as const satisfies Record<PersonRemoteOpKind, keyof RemoteService>;

/** What these procedures use, built in the composition root (app/). */
export interface RemoteRouterDeps {
  db: RelationalStore;
  remote: RemoteService;
}

/**
 * Remote access beside the terminal: files, processes, services and OS logs. Viewers see lists;
 * technicians transfer, kill and control. Transfer chunks are not metered (the transfer's
 * begin is); a caller keeps at most TRANSFER_WINDOW chunks in flight, each acknowledged by the device.
 */
export function createRemoteRouter(deps: RemoteRouterDeps) {
  return router({
    files: router({
      list: userProcedure('viewer').input(remoteOps['fs.list'].omit({ kind: true }).extend(deviceId)).query(({ ctx, input }) => deps.remote.list(personOf(ctx), input)),
      mkdir: userProcedure('technician').input(remoteOps['fs.mkdir'].omit({ kind: true }).extend(deviceId)).mutation(({ ctx, input }) => deps.remote.mkdir(personOf(ctx), input)),
      uploadBegin: userProcedure('technician').input(remoteOps['fs.uploadBegin'].omit({ kind: true }).extend(deviceId)).mutation(({ ctx, input }) => deps.remote.uploadBegin(personOf(ctx), input)),
      uploadChunk: userProcedure(UPLOAD_CHUNK_PROCEDURE.role, { metered: false }).input(remoteOps['fs.uploadChunk'].omit({ kind: true }).extend(deviceId)).mutation(({ ctx, input }) => deps.remote.uploadChunk(personOf(ctx), input)),
      uploadFinish: userProcedure('technician', { metered: false }).input(remoteOps['fs.uploadFinish'].omit({ kind: true }).extend(deviceId)).mutation(({ ctx, input }) => deps.remote.uploadFinish(personOf(ctx), input)),
      uploadAbort: userProcedure('technician', { metered: false }).input(remoteOps['fs.uploadAbort'].omit({ kind: true }).extend(deviceId)).mutation(({ ctx, input }) => deps.remote.uploadAbort(personOf(ctx), input)),
      downloadBegin: userProcedure('technician').input(remoteOps['fs.downloadBegin'].omit({ kind: true }).extend(deviceId)).mutation(({ ctx, input }) => deps.remote.downloadBegin(personOf(ctx), input)),
      downloadChunk: userProcedure(CHUNK_PROCEDURE.role, { metered: false }).input(remoteOps['fs.downloadChunk'].omit({ kind: true }).extend(deviceId)).mutation(({ ctx, input }) => deps.remote.downloadChunk(personOf(ctx), input)),
    }),
    processes: router({
      list: userProcedure('viewer').input(remoteOps['proc.list'].omit({ kind: true }).extend(deviceId)).query(({ ctx, input }) => deps.remote.processes(personOf(ctx), input)),
      kill: userProcedure('technician').input(remoteOps['proc.kill'].omit({ kind: true }).extend(deviceId)).mutation(({ ctx, input }) => deps.remote.kill(personOf(ctx), input)),
    }),
    services: router({
      list: userProcedure('viewer').input(remoteOps['svc.list'].omit({ kind: true }).extend(deviceId)).query(({ ctx, input }) => deps.remote.services(personOf(ctx), input)),
      control: userProcedure('technician').input(remoteOps['svc.control'].omit({ kind: true }).extend(deviceId)).mutation(({ ctx, input }) => deps.remote.controlService(personOf(ctx), input)),
    }),
    logs: router({
      query: userProcedure('viewer').input(remoteOps['logs.query'].omit({ kind: true }).extend(deviceId)).query(({ ctx, input }) => deps.remote.logs(personOf(ctx), input)),
    }),
    /** The local CLI (`ninjait cp`): any op on a device named like `ninjait run` names it, audited as local-admin. */
    local: localAdminProcedure
      .input(z.object({ device: z.string().min(1).max(255), org: z.string().min(1).max(255).optional(), op: z.unknown() }).strict())
      .mutation(async ({ ctx, input }) => {
        const deviceId = await resolveDeviceRef(deps.db, input.device, input.org);
        const kind = z.object({ kind: z.enum(Object.keys(METHODS) as [PersonRemoteOpKind, ...PersonRemoteOpKind[]]) }).passthrough().parse(input.op).kind;
        const { kind: _kind, ...fields } = remoteOps[kind].parse(input.op) as { kind: PersonRemoteOpKind } & Record<string, unknown>;
        const method = deps.remote[METHODS[kind]] as (r: Requester, i: unknown) => Promise<unknown>;
        return { deviceId, result: await method(localAdminOf(ctx), { ...fields, deviceId }) };
      }),
  });
}
