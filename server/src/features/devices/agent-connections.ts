import type { WebSocket } from 'ws';
import type { Metrics } from '../../platform/obs/metrics.ts';

/** Which device sockets this instance holds: for the gauge, command routing and decommissioning. */
export function createAgentConnections(metrics: Metrics) {
  const byDevice = new Map<string, Set<WebSocket>>();
  let count = 0;
  return {
    add(deviceId: string, socket: WebSocket) {
      let sockets = byDevice.get(deviceId);
      if (!sockets) byDevice.set(deviceId, (sockets = new Set()));
      if (sockets.has(socket)) return;
      sockets.add(socket);
      metrics.connectedAgents.set(++count);
      socket.once('close', () => {
        sockets.delete(socket);
        if (sockets.size === 0 && byDevice.get(deviceId) === sockets) byDevice.delete(deviceId);
        metrics.connectedAgents.set(--count);
      });
    },
    isConnected: (deviceId: string) => byDevice.has(deviceId),
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
