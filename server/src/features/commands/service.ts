import type { RelationalStore } from '../../stores/relational/index.ts';
import type { CacheStore } from '../../stores/cache/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { Auditor } from './audit.ts';
import type { Job } from '../../platform/scheduler/scheduler.ts';
import { createPublisher } from './events.ts';
import { afterFinished, createDelivery } from './delivery.ts';
import type { FinishedHook } from './report-groups.ts';
import { createLocalDevices } from './local-devices.ts';
import { createOutputLedger } from './output-ledger.ts';
import { outputEvents } from './live-output.ts';
import { cancelCommand, handOverMany, insertMany, runCommand, type InsertedMany, type Requester, type RunInput, type RunManyInput } from './requests.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { failUnreported, getCommand, listCommands, type ListFilter } from './repository.ts';
import { readOutput } from './output-store.ts';
import { REPORT_GRACE_SEC } from './limits.ts';
import type { EventPublisher } from '../events/index.ts';
import { commandFinished } from './finished-event.ts';
import type { CommandResult, OutputEvent } from './types.ts';

const SWEEP_MS = 5_000;

export interface CommandServiceDeps {
  db: RelationalStore;
  cache: CacheStore;
  log: Logger;
  audit: Auditor;
  /** Where a finished command is published for the organization's event webhooks. */
  events: EventPublisher;
  maxOutputBytes?: number;
  sweepMs?: number;
}

/** Remote commands: what people ask for, what agents are sent and report, and the live output in between. */
export function createCommandService(deps: CommandServiceDeps) {
  const { db, cache, log } = deps;
  const publisher = createPublisher(cache, log);
  const local = createLocalDevices();
  const ledger = createOutputLedger();
  let finished: FinishedHook | null = null;
  const delivery = createDelivery({ db, cache, publisher, events: deps.events, log, local, ledger, maxOutputBytes: deps.maxOutputBytes, finished: () => finished });

  const sweep = async () => {
    await delivery.expire();
    const hook = finished;
    const { timedOut, after } = await db.transaction(async (tx) => {
      const commands = await Promise.all((await failUnreported(tx, REPORT_GRACE_SEC)).map((id) => getCommand(tx, null, id)));
      for (const command of commands) await deps.events.publish(tx, commandFinished(command));
      const ofJobs = commands.filter((command) => command.bulkJobId !== null).map((command) => command.id);
      return { timedOut: commands, after: hook && ofJobs.length > 0 ? await hook(tx, ofJobs) : null };
    });
    for (const command of timedOut) await publisher.result(command);
    after?.();
  };
  const service = {
    publisher,
    /** The devices whose command stream runs on this instance: other features hand them messages directly. */
    local,
    /** The sweeper that expires queued commands and fails ones whose agent never reported; the scheduler runs it. */
    jobs: (): Job[] => [{ name: 'command-sweeper', everyMs: deps.sweepMs ?? SWEEP_MS, run: sweep }],
    sweep,
    run: (requester: Requester, input: RunInput) => runCommand({ db, local, ledger, publisher, auditor: deps.audit }, requester, input),
    async cancel(requester: Requester, id: string) {
      const command = await cancelCommand(db, publisher, deps.audit, requester, id);
      // Cancelled before delivery: final now, so its bulk job's target is too.
      if (command.status === 'cancelled' && command.bulkJobId) await afterFinished(finished, db, [command.id]);
      return command;
    },
    /**
     * Bulk jobs' batch path: the commands of many devices in one statement inside the caller's
     * transaction (`insertMany`), then delivery and audit after its commit (`handOverMany`).
     */
    insertMany: (tx: SqlExecutor, requester: Requester & { organizationId: string }, input: RunManyInput) => insertMany(tx, local, requester, input),
    handOverMany: (inserted: InsertedMany) => handOverMany({ db, local, ledger, publisher, auditor: deps.audit }, inserted),
    /** What follows a bulk job's command becoming final (the bulk-jobs feature sets it; one hook per service). */
    onFinished(hook: FinishedHook) {
      finished = hook;
    },
    audit: deps.audit,
    get: (organizationId: string | null, id: string) => getCommand(db, organizationId, id),
    list: (filter: ListFilter) => listCommands(db, filter),
    storedOutput: (commandId: string, afterSeq?: number) => readOutput(db, commandId, afterSeq),
    /** Live output of a command of `organizationId` (null = any, for the local admin); NOT_FOUND otherwise. */
    output: (organizationId: string | null, commandId: string, signal?: AbortSignal): AsyncGenerator<OutputEvent> =>
      outputEvents(db, cache, organizationId, commandId, signal),
    /** Waits for a command's result (bulk jobs, benchmarks); output is skipped. */
    async waitForResult(commandId: string, signal?: AbortSignal): Promise<CommandResult> {
      for await (const event of outputEvents(db, cache, null, commandId, signal)) {
        if (event.type === 'result') {
          const { type: _type, ...result } = event;
          return result;
        }
      }
      throw new Error('Stopped waiting for the command result');
    },
    agent: delivery,
  };
  return service;
}
export type CommandService = ReturnType<typeof createCommandService>;
