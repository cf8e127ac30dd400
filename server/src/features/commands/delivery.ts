import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { createAsyncQueue } from '../../platform/trpc/async-queue.ts';
import { deviceChannel } from './channels.ts';
import type { Publisher } from './events.ts';
import { appendOutput } from './output-append.ts';
import type { OutputLedger } from './output-ledger.ts';
import { claimQueued, expireQueued, finishFromAgent, markRunning, owedOnConnect } from './repository.ts';
import { MAX_OUTPUT_BYTES } from './limits.ts';
import type { LocalDevices } from './local-devices.ts';
import type { EventPublisher } from '../events/index.ts';
import { commandFinished } from './finished-event.ts';
import type { AgentMessage, AgentResultStatus, DeviceChannelMessage, OutputChunk } from './types.ts';

export interface DeliveryDeps {
  db: RelationalStore;
  events: EventPublisher;
  cache: CacheStore;
  publisher: Publisher;
  log: Logger;
  local: LocalDevices;
  ledger: OutputLedger;
  maxOutputBytes?: number;
  /** What else follows commands of bulk jobs that became final (see `FinishedHook`); read at each use. */
  finished?: () => FinishedHook | null;
}

/**
 * Told of commands of bulk jobs that just became final, inside the statement's transaction when
 * there is one (so what follows them commits with the result); returns what to do after the commit.
 */
export type FinishedHook = (db: SqlExecutor, commandIds: string[]) => Promise<() => void>;

/** Runs the hook outside a transaction (expiries, cancels): the periodic re-drive catches a crash in between. */
export async function afterFinished(hook: FinishedHook | null | undefined, db: SqlExecutor, commandIds: string[]): Promise<void> {
  if (!hook || commandIds.length === 0) return;
  (await hook(db, commandIds))();
}

/** What a device's stream takes: messages from other instances, or ready ones from this instance. */
type StreamItem = DeviceChannelMessage | { type: 'deliver'; message: AgentMessage };

/** The instance holding a device's socket: feeds its subscription and records what it reports. */
export function createDelivery(deps: DeliveryDeps) {
  const { db, cache, publisher, events, log, local, ledger } = deps;
  const maxOutputBytes = deps.maxOutputBytes ?? MAX_OUTPUT_BYTES;

  const expiredResult = (id: string) =>
    ({ id, status: 'expired', exitCode: null, error: 'Expired before the device came online', outputBytes: 0, outputTruncated: false }) as const;
  /** The sweeper's pass over every device's queued commands. */
  const expire = async () => {
    const ids = await expireQueued(db);
    for (const id of ids) await publisher.result(expiredResult(id));
    await afterFinished(deps.finished?.(), db, ids);
  };

  return {
    expire,

    /**
     * The device's `agent.commands` subscription. Subscribes to the device's channel first, then
     * sends what it is owed from the database (`owedOnConnect`: re-sends of unfinished commands,
     * queued ones not expired), then whatever arrives. Claims are `UPDATE … WHERE status =
     * 'queued'`, so each command is claimed by one subscription. Only once that backlog went out
     * does the stream take commands created on this instance directly (`local`): until then
     * they are queued and come by the channel, so none is sent twice.
     */
    async *stream(deviceId: string, signal: AbortSignal | undefined): AsyncGenerator<AgentMessage> {
      const queue = createAsyncQueue<StreamItem>(signal);
      const unsubscribe = await cache.subscribe(deviceChannel(deviceId), (raw) => {
        try {
          queue.push(JSON.parse(raw) as DeviceChannelMessage);
        } catch (error) {
          log.warn({ err: error, deviceId }, 'ignored a malformed device channel message');
        }
      });
      let detach: (() => void) | null = null;
      try {
        const owed = await owedOnConnect(db, deviceId);
        for (const id of owed.expired) await publisher.result(expiredResult(id));
        await afterFinished(deps.finished?.(), db, owed.expired);
        for (const { spec, cancel } of owed.resend) {
          // A command cancelled while the socket was down is only cancelled: the agent records it unrun.
          yield cancel ? { type: 'cancel', id: spec.id } : { type: 'run', command: spec };
        }
        for (const spec of owed.claimed) {
          await publisher.output(spec.id, { type: 'status', status: 'sent' });
          yield { type: 'run', command: spec };
        }
        detach = local.attach(deviceId, (message) => queue.push({ type: 'deliver', message }));
        for await (const item of queue) {
          if (item.type === 'deliver') {
            yield item.message;
            continue;
          }
          if (item.type !== 'run') {
            yield item;
            continue;
          }
          const spec = await claimQueued(db, deviceId, item.id);
          if (!spec) continue;
          await publisher.output(spec.id, { type: 'status', status: 'sent' });
          yield { type: 'run', command: spec };
        }
      } finally {
        detach?.();
        await unsubscribe().catch(() => undefined);
      }
    },

    async started(deviceId: string, commandId: string): Promise<{ accepted: boolean }> {
      const accepted = await markRunning(db, deviceId, commandId);
      if (accepted) await publisher.output(commandId, { type: 'status', status: 'running' });
      return { accepted };
    },

    async output(deviceId: string, commandId: string, chunks: OutputChunk[]): Promise<{ accepted: boolean; truncated: boolean }> {
      // Viewers get the chunks as they are written; the agent's ack waits for the write.
      const result = await appendOutput(db, ledger, deviceId, commandId, chunks, maxOutputBytes,
        (stored) => publisher.output(commandId, { type: 'chunks', chunks: stored }));
      return { accepted: result.accepted, truncated: result.truncated };
    },

    async result(
      deviceId: string,
      commandId: string,
      result: { status: AgentResultStatus; exitCode: number | null; error: string | null },
    ): Promise<{ accepted: boolean }> {
      // The event commits with the result: a repeated report finds the row final and publishes nothing.
      // A bulk job's target follows its command in the same commit.
      const hook = deps.finished?.();
      const { finished, after } = await db.transaction(async (tx) => {
        const row = await finishFromAgent(tx, deviceId, commandId, result);
        if (row) await events.publish(tx, commandFinished(row));
        return { finished: row, after: row?.bulkJobId && hook ? await hook(tx, [row.id]) : null };
      });
      ledger.delete(commandId);
      if (finished) await publisher.result(finished);
      after?.();
      return { accepted: finished !== null };
    },
  };
}
export type Delivery = ReturnType<typeof createDelivery>;
