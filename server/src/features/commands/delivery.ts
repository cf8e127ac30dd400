import type { RelationalStore, SqlExecutor } from '../../stores/relational/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import { createAsyncQueue } from '../../platform/trpc/async-queue.ts';
import { deviceChannel } from './channels.ts';
import type { Publisher } from './events.ts';
import { appendOutput, writeFromMark } from './output-append.ts';
import { createReportGroups, type FinishedHook } from './report-groups.ts';
import type { OutputLedger } from './output-ledger.ts';
import { claimQueuedMany, expireQueued, owedOnConnect } from './repository.ts';
import { createGroupCommit } from '../../platform/group-commit.ts';
import { MAX_OUTPUT_BYTES } from './limits.ts';
import type { LocalDevices } from './local-devices.ts';
import type { EventPublisher } from '../events/index.ts';
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

/** Runs the hook outside a transaction (expiries, cancels): the periodic re-drive catches a crash in between. */
export async function afterFinished(hook: FinishedHook | null | undefined, db: SqlExecutor, commandIds: string[]): Promise<void> {
  if (!hook || commandIds.length === 0) return;
  (await hook(db, commandIds))();
}

/**
 * Claims that come by the device channel (commands created on another instance: a bulk job's wave
 * reaches the agents of every other instance this way) are written together, one statement for
 * all the streams that got theirs meanwhile, instead of one each.
 */
const CLAIM_GROUP_MAX = 1_000;

/** What a device's stream takes: messages from other instances, or ready ones from this instance. */
type StreamItem = DeviceChannelMessage | { type: 'deliver'; message: AgentMessage };

/** The instance holding a device's socket: feeds its subscription and records what it reports. */
export function createDelivery(deps: DeliveryDeps) {
  const { db, cache, publisher, events, log, local, ledger } = deps;
  const maxOutputBytes = deps.maxOutputBytes ?? MAX_OUTPUT_BYTES;
  const reports = createReportGroups({ db, events, publisher, ledger, finished: () => deps.finished?.() ?? null });
  const claims = createGroupCommit((items: readonly { deviceId: string; id: string }[]) => claimQueuedMany(db, items), {
    key: (item) => item.id, windowMs: 0, maxItems: CLAIM_GROUP_MAX,
  });

  const expiredResult = (id: string) =>
    ({ id, status: 'expired', exitCode: null, error: 'Expired before the device came online', outputBytes: 0, outputTruncated: false }) as const;
  /** The sweeper's pass over every device's queued commands. */
  const expire = async () => {
    const ids = await expireQueued(db);
    for (const id of ids) await publisher.result(expiredResult(id));
    await afterFinished(deps.finished?.(), db, ids);
  };

  async function output(deviceId: string, commandId: string, chunks: OutputChunk[]): Promise<{ accepted: boolean; truncated: boolean }> {
    // Viewers get the chunks as they are written; the agent's ack waits for the write.
    const result = await appendOutput(db, ledger, deviceId, commandId, chunks, maxOutputBytes,
      (stored) => publisher.output(commandId, { type: 'chunks', chunks: stored }), reports.output.add);
    return { accepted: result.accepted, truncated: result.truncated };
  }

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
          const spec = await claims.add({ deviceId, id: item.id });
          if (!spec) continue;
          // A queued command has no output yet, and it will come to this instance: its first
          // batch (a quick command's result carries it) needs no read of the accounting first.
          ledger.set(spec.id, { outputBytes: 0, truncated: false, nextSeq: 0 });
          await publisher.output(spec.id, { type: 'status', status: 'sent' });
          yield { type: 'run', command: spec };
        }
      } finally {
        detach?.();
        await unsubscribe().catch(() => undefined);
      }
    },

    async started(deviceId: string, commandId: string): Promise<{ accepted: boolean }> {
      const accepted = await reports.started.add({ deviceId, commandId });
      if (accepted) await publisher.output(commandId, { type: 'status', status: 'running' });
      return { accepted };
    },

    output,

    /**
     * The result; output that comes with it (a quick command's, see `outputInResult`) is stored
     * first, as a `commandOutput` call before it would have been, so viewers see it before the result.
     */
    async result(
      deviceId: string,
      commandId: string,
      result: { status: AgentResultStatus; exitCode: number | null; error: string | null; output?: OutputChunk[] | undefined },
    ): Promise<{ accepted: boolean }> {
      const { output: chunks, ...final } = result;
      const report = { ...final, deviceId, commandId };
      if (chunks && chunks.length > 0) {
        // The usual case (this instance sent the command, nothing stored yet): output and result in one transaction.
        const write = writeFromMark(ledger, deviceId, commandId, chunks, maxOutputBytes);
        const outcome = write ? await reports.result.add({ ...report, output: write }) : 'output-missed';
        if (outcome !== 'output-missed') return { accepted: outcome };
        await output(deviceId, commandId, chunks);
      }
      return { accepted: (await reports.result.add(report)) === true };
    },
  };
}
export type Delivery = ReturnType<typeof createDelivery>;
