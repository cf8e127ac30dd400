import { MAX_TRANSFER_BYTES, type RemoteOp, type RemoteOpKind, type RemoteResult } from '@ninjait/shared';
import type { RelationalStore } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { resolveDeviceRef, writeCommandAudit, type Auditor, type Requester } from '../commands/index.ts';
import type { DeviceRpc, UploadChunk } from './device-rpc.ts';
import type { DownloadStreams } from './download-streams.ts';
import type { RelayTarget } from './stream-relay.ts';
import { remoteRepository } from './repository.ts';

type Op<K extends RemoteOpKind> = Extract<RemoteOp, { kind: K }>;
/** An op as callers send it: the device is named beside it. */
type Input<K extends RemoteOpKind> = Omit<Op<K>, 'kind'> & { deviceId: string };

/**
 * Files, processes, services and OS logs of a device, for people: the device must be in the
 * caller's organization (NOT_FOUND otherwise) and approved; what changes the device (a finished
 * upload, a download handed out, a kill, a service action) is audited with who, where and, for
 * files, the SHA-256.
 */
export function createRemoteService(deps: { db: RelationalStore; rpc: DeviceRpc; audit: Auditor; streams: Pick<DownloadStreams, 'relay'> }) {
  const repo = remoteRepository(deps.db);

  async function reach(requester: Requester, deviceId: string) {
    const device = await repo.device(deviceId, requester.organizationId);
    if (!device) throw notFound('Device');
    if (!device.approved) throw new AppError('CONFLICT', 'The device is waiting for an administrator to approve it');
    return device;
  }
  /** A device named by a transfer route: by name or id for the local admin, by id within their organization for people. */
  async function reachRef(requester: Requester, ref: { device: string; org?: string }) {
    const deviceId = requester.organizationId === null ? await resolveDeviceRef(deps.db, ref.device, ref.org) : ref.device;
    await reach(requester, deviceId);
    return deviceId;
  }
  async function call<K extends RemoteOpKind>(requester: Requester, kind: K, input: Input<K>) {
    const { deviceId, ...rest } = input;
    const device = await reach(requester, deviceId);
    const result = await deps.rpc.call<K>(deviceId, { kind, ...rest } as unknown as Op<K>);
    return { device, result };
  }
  const audit = (requester: Requester, organizationId: string, action: 'file.upload' | 'file.download' | 'file.mkdir' | 'process.kill' | 'service.control', resourceId: string, details: Record<string, unknown>) =>
    writeCommandAudit(deps.audit, { organizationId, userId: requester.userId, action, resourceId, ipAddress: requester.ip, details: { ...details, requestedBy: requester.label } });
  const plain = async <K extends RemoteOpKind>(requester: Requester, kind: K, input: Input<K>): Promise<RemoteResult<K>> => (await call(requester, kind, input)).result;

  return {
    list: (r: Requester, input: Input<'fs.list'>) => plain(r, 'fs.list', input),
    /** Audited when it created the folder (asking for one that exists changes nothing). */
    async mkdir(r: Requester, input: Input<'fs.mkdir'>) {
      const { device, result } = await call(r, 'fs.mkdir', input);
      if (result.created) await audit(r, device.organizationId, 'file.mkdir', input.deviceId, { deviceId: input.deviceId, deviceName: device.name, path: result.path });
      return result;
    },
    uploadBegin(r: Requester, input: Input<'fs.uploadBegin'>) {
      if (input.size > MAX_TRANSFER_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', `Files up to ${MAX_TRANSFER_BYTES} bytes can be transferred`);
      return plain(r, 'fs.uploadBegin', input);
    },
    uploadChunk: (r: Requester, input: Input<'fs.uploadChunk'>) => plain(r, 'fs.uploadChunk', input),
    async uploadFinish(r: Requester, input: Input<'fs.uploadFinish'>) {
      const { device, result } = await call(r, 'fs.uploadFinish', input);
      await audit(r, device.organizationId, 'file.upload', input.transferId, { deviceId: input.deviceId, deviceName: device.name, path: result.path, size: result.size, sha256: result.sha256 });
      return result;
    },
    uploadAbort: (r: Requester, input: Input<'fs.uploadAbort'>) => plain(r, 'fs.uploadAbort', input),
    async downloadBegin(r: Requester, input: Input<'fs.downloadBegin'>) {
      const { device, result } = await call(r, 'fs.downloadBegin', input);
      await audit(r, device.organizationId, 'file.download', input.deviceId, { deviceId: input.deviceId, deviceName: device.name, path: result.path, size: result.size, sha256: result.sha256 });
      return result;
    },
    async downloadChunk(r: Requester, input: Input<'fs.downloadChunk'>): Promise<RemoteResult<'fs.downloadChunk'>> {
      await reach(r, input.deviceId);
      const data = await deps.rpc.readChunk(input.deviceId, input.path, input.offset, input.length);
      return { offset: input.offset, data: data.toString('base64') };
    },
    /**
     * A streamed download's reader: the device is resolved and checked once, then the range is
     * offered as a stream from the device (`download-streams.ts`) and, where none comes, read
     * chunk by chunk as bytes. The transfer itself was begun, and audited with its SHA-256, by `downloadBegin`.
     * The local admin names it as `ninjait run` does; a person by id only, found (or not) within
     * their organization exactly as a chunk call's: a lookup across organizations first would
     * answer another organization's device differently from one that does not exist.
     */
    async openDownload(r: Requester, ref: { device: string; org?: string }) {
      const deviceId = await reachRef(r, ref);
      return {
        chunk: (path: string, offset: number, length: number) => deps.rpc.readChunk(deviceId, path, offset, length),
        stream: (path: string, offset: number, length: number, into: RelayTarget, signal: AbortSignal) =>
          deps.streams.relay({ deviceId, path, offset, length, into, signal }),
      };
    },
    /**
     * An upload chunk's writer, the device found as `openDownload` finds it. Like a chunk call,
     * it is not audited: the transfer is, at `uploadFinish`, with its SHA-256.
     */
    async openUpload(r: Requester, ref: { device: string; org?: string }) {
      const deviceId = await reachRef(r, ref);
      return (chunk: UploadChunk) => deps.rpc.writeChunk(deviceId, chunk);
    },
    processes: (r: Requester, input: Input<'proc.list'>) => plain(r, 'proc.list', input),
    async kill(r: Requester, input: Input<'proc.kill'>) {
      const device = await reach(r, input.deviceId);
      // Audited before the signal goes: a process that ends the agent's connection still leaves a trace.
      await audit(r, device.organizationId, 'process.kill', input.deviceId, { deviceId: input.deviceId, deviceName: device.name, pid: input.pid, signal: input.signal });
      return plain(r, 'proc.kill', input);
    },
    services: (r: Requester, input: Input<'svc.list'>) => plain(r, 'svc.list', input),
    async controlService(r: Requester, input: Input<'svc.control'>) {
      const device = await reach(r, input.deviceId);
      await audit(r, device.organizationId, 'service.control', input.deviceId, { deviceId: input.deviceId, deviceName: device.name, service: input.name, action: input.action });
      return plain(r, 'svc.control', input);
    },
    logs: (r: Requester, input: Input<'logs.query'>) => plain(r, 'logs.query', input),
  };
}
export type RemoteService = ReturnType<typeof createRemoteService>;
