import type { CacheStore, Unsubscribe } from '../../stores/cache/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { Sessions } from '../auth/index.ts';
import type { AgentConnections } from './agent-connections.ts';

/** Every instance listens here, so a device is dropped wherever its socket is. */
export const DEVICE_CONTROL_CHANNEL = 'devices:control';

export function listenForDeviceControl(cache: CacheStore, agents: AgentConnections, log: Logger): Promise<Unsubscribe> {
  return cache.subscribe(DEVICE_CONTROL_CHANNEL, (message) => {
    try {
      const { deviceId, action, reason } = JSON.parse(message) as { deviceId: unknown; action: unknown; reason?: unknown };
      if (action === 'disconnect' && typeof deviceId === 'string') agents.disconnect(deviceId, typeof reason === 'string' ? reason : 'decommissioned');
    } catch (error) {
      log.warn({ err: error }, 'ignoring a malformed device control message');
    }
  });
}

/**
 * Cuts a retired device off at once, everywhere: its sockets on this instance and (through the
 * cache) on every other, and people's subscriptions that show it. Its credentials must be gone
 * already, so a reconnect is refused. A cache that is down leaves other instances' sockets open
 * until they reconnect (and are refused).
 */
export async function cutOffDevice(
  deps: { agents: AgentConnections; cache: CacheStore; sessions: Pick<Sessions, 'revokeDevice'>; log: Logger },
  deviceId: string,
  reason = 'decommissioned',
): Promise<void> {
  deps.agents.disconnect(deviceId, reason);
  await deps.cache.publish(DEVICE_CONTROL_CHANNEL, JSON.stringify({ deviceId, action: 'disconnect', reason }))
    .catch((err: unknown) => deps.log.warn({ err, deviceId }, 'could not tell other instances to drop the device'));
  await deps.sessions.revokeDevice(deviceId);
}
