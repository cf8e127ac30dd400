import type { WebSocket } from 'ws';
import type { Metrics } from '../../platform/obs/metrics.ts';

/** Which device sockets this instance holds: for the gauge, command routing and decommissioning. */
export function createAgentConnections(metrics: Metrics) {
  const byDevice = new Map<string, Set<WebSocket>>();
  // Which device a socket proved to be: binary frames (download chunks) carry no credentials.
  const deviceOfSocket = new WeakMap<WebSocket, string>();
  let count = 0;
  return {
    add(deviceId: string, socket: WebSocket) {
      let sockets = byDevice.get(deviceId);
      if (!sockets) byDevice.set(deviceId, (sockets = new Set()));
      if (sockets.has(socket)) return;
      sockets.add(socket);
      deviceOfSocket.set(socket, deviceId);
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
