import type { WebSocket } from 'ws';
import { decodeChunkFrame, type ChunkFrame } from '@ninjait/shared';
import type { Logger } from '../../platform/obs/logger.ts';

/** WebSocket close code for data the endpoint does not accept (RFC 6455 §7.4.1). */
export const UNSUPPORTED_DATA = 1003;

/**
 * Binary WebSocket frames: download chunks from agents (`chunk-frames.ts`). Only a socket
 * authenticated as a device may send them; one that sends something that is not a chunk frame
 * is closed (an agent reconnects; nothing legitimate sends such a frame). A well-formed frame
 * that answers no request of that device (late, after its request timed out; or forged) is
 * dropped and counted for the log.
 */
export function createFrameReceiver(deps: {
  /** DeviceRpc's, by shape: the one call the receiver makes. */
  rpc: { fromAgentFrame(deviceId: string, frame: ChunkFrame): Promise<{ accepted: boolean }> };
  deviceOf(socket: WebSocket): string | null;
  log: Logger;
}) {
  let refused = 0;
  return (socket: WebSocket, data: Buffer): void => {
    const deviceId = deps.deviceOf(socket);
    const frame = deviceId ? decodeChunkFrame(data) : null;
    if (!deviceId || !frame) {
      deps.log.warn({ deviceId, bytes: data.length }, deviceId ? 'closing a device socket that sent a malformed binary frame' : 'closing a socket that sent a binary frame without device credentials');
      return void socket.close(UNSUPPORTED_DATA, 'binary frames are download chunks from agents');
    }
    void deps.rpc.fromAgentFrame(deviceId, frame).then(({ accepted }) => {
      // Once per hundred: a device replaying frames must not fill the log.
      if (!accepted && refused++ % 100 === 0) deps.log.debug({ deviceId, refused }, 'dropped a chunk frame that answers no request of this device');
    }, (err: unknown) => deps.log.warn({ err, deviceId }, 'could not take a chunk frame'));
  };
}
