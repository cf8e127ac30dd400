import type { AgentMessage } from './types.ts';

/** Queues a message on a stream; false when that stream has ended. */
type Deliver = (message: AgentMessage) => boolean;

/**
 * The devices whose `agent.commands` stream runs on this instance. A command for one of them
 * is handed to its stream directly: no pub/sub round trip and no claim, since its creator
 * writes it `sent`. Other devices are reached through the cache as before.
 */
export function createLocalDevices() {
  const streams = new Map<string, Deliver[]>();
  return {
    /** Registers a stream that is ready for new commands; returns its removal. */
    attach(deviceId: string, deliver: Deliver): () => void {
      const list = streams.get(deviceId) ?? [];
      list.push(deliver);
      streams.set(deviceId, list);
      return () => {
        const rest = (streams.get(deviceId) ?? []).filter((d) => d !== deliver);
        if (rest.length > 0) streams.set(deviceId, rest);
        else streams.delete(deviceId);
      };
    },
    has: (deviceId: string) => streams.has(deviceId),
    /** Hands a message to the device's newest live stream here (an agent that reconnected); false when it has none. */
    deliver(deviceId: string, message: AgentMessage): boolean {
      return streams.get(deviceId)?.at(-1)?.(message) ?? false;
    },
  };
}
export type LocalDevices = ReturnType<typeof createLocalDevices>;
