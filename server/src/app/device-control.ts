import type { CacheStore, Unsubscribe } from '../stores/cache/index.ts';
import type { Logger } from '../obs/logger.ts';
import type { AgentConnections } from './agent-connections.ts';

/** Every instance listens here, so a device is dropped wherever its socket is. */
export const DEVICE_CONTROL_CHANNEL = 'devices:control';

export function listenForDeviceControl(cache: CacheStore, agents: AgentConnections, log: Logger): Promise<Unsubscribe> {
  return cache.subscribe(DEVICE_CONTROL_CHANNEL, (message) => {
    try {
      const { deviceId, action } = JSON.parse(message) as { deviceId: string; action: string };
      if (action === 'disconnect') agents.disconnect(deviceId, 'decommissioned');
    } catch (error) {
      log.warn({ err: error }, 'ignoring a malformed device control message');
    }
  });
}
