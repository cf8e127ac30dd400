import type { RelationalStore } from '../stores/relational/index.ts';
import type { CacheStore } from '../stores/cache/index.ts';
import type { Logger } from '../obs/logger.ts';
import { createAsyncQueue } from './async-queue.ts';
import { deviceChannel } from './channels.ts';
import type { Publisher } from './events.ts';
import { appendOutput } from './output-store.ts';
import { claimQueued, expireQueued, finishFromAgent, markRunning, redeliverable } from './repository.ts';
import { MAX_OUTPUT_BYTES } from './limits.ts';
import type { AgentMessage, AgentResultStatus, DeviceChannelMessage, OutputChunk } from './types.ts';

export interface DeliveryDeps {
  db: RelationalStore;
  cache: CacheStore;
  publisher: Publisher;
  log: Logger;
  maxOutputBytes?: number;
}

/** The instance holding a device's socket: feeds its subscription and records what it reports. */
export function createDelivery(deps: DeliveryDeps) {
  const { db, cache, publisher, log } = deps;
  const maxOutputBytes = deps.maxOutputBytes ?? MAX_OUTPUT_BYTES;

  const expire = async (deviceId: string | null) => {
    for (const id of await expireQueued(db, deviceId)) {
      await publisher.result({ id, status: 'expired', exitCode: null, error: 'Expired before the device came online', outputBytes: 0, outputTruncated: false });
    }
  };

  return {
    expire,

    /**
     * The device's `agent.commands` subscription. Subscribes to the device's channel first, then
     * sends what it is owed from the database (re-sends of unfinished commands, queued ones
     * not expired), then whatever other instances publish. Claims are `UPDATE … WHERE status =
     * 'queued'`, so each command is claimed by one subscription.
     */
    async *stream(deviceId: string, signal: AbortSignal | undefined): AsyncGenerator<AgentMessage> {
      const queue = createAsyncQueue<DeviceChannelMessage>(signal);
      const unsubscribe = await cache.subscribe(deviceChannel(deviceId), (raw) => {
        try {
          queue.push(JSON.parse(raw) as DeviceChannelMessage);
        } catch (error) {
          log.warn({ err: error, deviceId }, 'ignored a malformed device channel message');
        }
      });
      try {
        await expire(deviceId);
        for (const { spec, cancel } of await redeliverable(db, deviceId)) {
          // A command cancelled while the socket was down is only cancelled: the agent records it unrun.
          yield cancel ? { type: 'cancel', id: spec.id } : { type: 'run', command: spec };
        }
        for (const spec of await claimQueued(db, deviceId, null)) {
          await publisher.output(spec.id, { type: 'status', status: 'sent' });
          yield { type: 'run', command: spec };
        }
        for await (const message of queue) {
          if (message.type !== 'run') {
            yield message;
            continue;
          }
          const [spec] = await claimQueued(db, deviceId, message.id);
          if (!spec) continue;
          await publisher.output(spec.id, { type: 'status', status: 'sent' });
          yield { type: 'run', command: spec };
        }
      } finally {
        await unsubscribe().catch(() => undefined);
      }
    },

    async started(deviceId: string, commandId: string): Promise<{ accepted: boolean }> {
      const accepted = await markRunning(db, deviceId, commandId);
      if (accepted) await publisher.output(commandId, { type: 'status', status: 'running' });
      return { accepted };
    },

    async output(deviceId: string, commandId: string, chunks: OutputChunk[]): Promise<{ accepted: boolean; truncated: boolean }> {
      const result = await appendOutput(db, deviceId, commandId, chunks, maxOutputBytes);
      if (result.stored.length > 0) await publisher.output(commandId, { type: 'chunks', chunks: result.stored });
      return { accepted: result.accepted, truncated: result.truncated };
    },

    async result(
      deviceId: string,
      commandId: string,
      result: { status: AgentResultStatus; exitCode: number | null; error: string | null },
    ): Promise<{ accepted: boolean }> {
      const finished = await finishFromAgent(db, deviceId, commandId, result);
      if (finished) await publisher.result(finished);
      return { accepted: finished !== null };
    },
  };
}
export type Delivery = ReturnType<typeof createDelivery>;
