import type { NatsConnection } from '@nats-io/transport-node';
import type { Unsubscribe } from '../cache/types.ts';

/** Best-effort fan-out between instances: what Redis pub/sub does for commands, on NATS subjects. */
export interface MessageBus {
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, onMessage: (message: string) => void): Promise<Unsubscribe>;
}

/** Characters a NATS subject token cannot hold; channel names are ours (`device:<uuid>:commands`), never a caller's. */
const NOT_A_TOKEN = /[\s.*>]/;

/**
 * Channels become subjects under `<namespace>.bus.`: one token each, so a subscription never
 * matches another channel by wildcard. Core NATS (no JetStream): a message nobody listens to is
 * dropped, as on Redis; commands are rows in PostgreSQL and every subscriber re-reads them.
 */
export function createNatsBus(nc: NatsConnection, namespace: string): MessageBus {
  const subject = (channel: string) => {
    if (channel.length === 0 || NOT_A_TOKEN.test(channel)) throw new Error(`not a bus channel: ${JSON.stringify(channel.slice(0, 80))}`);
    return `${namespace}.bus.${channel}`;
  };
  return {
    async publish(channel, message) {
      nc.publish(subject(channel), message);
    },
    async subscribe(channel, onMessage) {
      const subscription = nc.subscribe(subject(channel), { callback: (error, msg) => { if (!error) onMessage(msg.string()); } });
      // The subscription is registered on the server before the caller reads what it missed.
      await nc.flush();
      return async () => subscription.unsubscribe();
    },
  };
}
