import type { WebSocket } from 'ws';
import { UPLOAD_FRAMES_PROTOCOL } from '@ninjait/shared';
import type { Metrics } from '../../platform/obs/metrics.ts';

/** Which device sockets this instance holds: for the gauge, command routing and decommissioning. */
export function createAgentConnections(metrics: Metrics) {
  const byDevice = new Map<string, Set<WebSocket>>();
  // Which device a socket proved to be: binary frames (download chunks) carry no credentials.
  const deviceOfSocket = new WeakMap<WebSocket, string>();
  // Sockets whose agent takes upload chunks as binary frames; an older agent fails on one.
  const takesUploadFrames = new WeakSet<WebSocket>();
  let count = 0;
  return {
    add(deviceId: string, socket: WebSocket, protocolVersion: number) {
      let sockets = byDevice.get(deviceId);
      if (!sockets) byDevice.set(deviceId, (sockets = new Set()));
      if (sockets.has(socket)) return;
      sockets.add(socket);
      deviceOfSocket.set(socket, deviceId);
      if (protocolVersion >= UPLOAD_FRAMES_PROTOCOL) takesUploadFrames.add(socket);
      metrics.connectedAgents.set(++count);
      socket.once('close', () => {
        sockets.delete(socket);
        if (sockets.size === 0 && byDevice.get(deviceId) === sockets) byDevice.delete(deviceId);
        metrics.connectedAgents.set(--count);
      });
    },
    isConnected: (deviceId: string) => byDevice.has(deviceId),
    /** The device an open socket authenticated as, null for any other socket. */
    deviceOf: (socket: WebSocket): string | null => deviceOfSocket.get(socket) ?? null,
    /**
     * Sends an upload frame (`upload-frames.ts`) on the device's newest open socket here, if its
     * agent takes them: false otherwise (not connected here, or an older agent), and the caller
     * sends the chunk as JSON. The agent answers on whichever socket it holds then.
     */
    sendUploadFrame(deviceId: string, frame: Buffer): boolean {
      const socket = [...byDevice.get(deviceId) ?? []].findLast((s) => s.readyState === s.OPEN);
      if (!socket || !takesUploadFrames.has(socket)) return false;
      socket.send(frame, { binary: true });
      return true;
    },
    /** Closes a device's sockets at once, e.g. when it is decommissioned. */
    disconnect(deviceId: string, reason: string) {
      for (const socket of byDevice.get(deviceId) ?? []) socket.close(4001, reason);
    },
    get size() {
      return count;
    },
  };
}
export type AgentConnections = ReturnType<typeof createAgentConnections>;
