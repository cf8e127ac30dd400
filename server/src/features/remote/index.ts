import type { RelationalStore } from '../../stores/relational/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { Auditor, LocalDevices, Requester } from '../commands/index.ts';
import type { WebSocket } from 'ws';
import type { Logger } from '../../platform/obs/logger.ts';
import type { SessionUser } from '../../platform/trpc/caller.ts';
import { createDeviceRpc } from './device-rpc.ts';
import { downloadRoute, type DownloadRouteDeps } from './download-route.ts';
import { uploadRoute } from './upload-route.ts';
import { createFrameReceiver } from './frame-receiver.ts';
import { createDownloadStreams, type StreamOutcome } from './download-streams.ts';
import { createRemoteService } from './service.ts';

export { createRemoteRouter } from './remote.router.ts';
export { createRemoteAgentProcedures } from './agent-procedures.ts';
export type { RemoteService } from './service.ts';
export type { DeviceRpc } from './device-rpc.ts';
export { DOWNLOAD_STREAM_PATH } from './download-path.ts';
export { UPLOAD_CHUNK_PATH, UPLOAD_HEADER } from './upload-path.ts';

/**
 * Files, processes, services and OS logs of devices, over their command streams. Downloads reach
 * the CLI and the console over HTTP (`downloadRoute`): from a device's own connection when it opens
 * one (`streams`, an upgrade), else as chunks in binary frames (`frames`). Upload chunks come as
 * HTTP bodies (`uploadRoute`) and go on as binary frames.
 */
export function createRemoteFeature(deps: {
  db: RelationalStore; cache: CacheStore; audit: Auditor; log: Logger; local?: LocalDevices;
  /** The device a socket authenticated as (binary frames carry no credentials). */
  deviceOf(socket: WebSocket): string | null;
  localAdmin: DownloadRouteDeps<Requester>['localAdmin'];
  /** Sessions and API keys, proven as the procedures prove them (people stream downloads too). */
  people: DownloadRouteDeps<Requester>['people'];
  /** Sends an upload frame to a device's socket on this instance (false: not here, or an older agent). */
  sendUploadFrame?: (deviceId: string, frame: Buffer) => boolean;
  metrics?: { downloadStreams: { inc(labels: { outcome: StreamOutcome }): void } };
}) {
  const rpc = createDeviceRpc({ cache: deps.cache, ...(deps.local ? { local: deps.local } : {}), ...(deps.sendUploadFrame ? { sendUploadFrame: deps.sendUploadFrame } : {}) });
  const callers = {
    localAdmin: deps.localAdmin, people: deps.people,
    person: (user: SessionUser, ip: string | null): Requester => ({ userId: user.userId, label: user.email, organizationId: user.organizationId, ip }),
  };
  const streams = createDownloadStreams({ rpc, log: deps.log, ...(deps.metrics ? { outcomes: deps.metrics.downloadStreams } : {}) });
  const service = createRemoteService({ db: deps.db, rpc, audit: deps.audit, streams });
  return {
    rpc,
    service,
    streams,
    frames: createFrameReceiver({ rpc, deviceOf: deps.deviceOf, log: deps.log }),
    downloadRoute: downloadRoute({ service, ...callers, onError: (err) => deps.log.warn({ err }, 'a streamed download failed') }),
    uploadRoute: uploadRoute({ service, ...callers, onError: (err) => deps.log.warn({ err }, 'an upload chunk failed') }),
  };
}
