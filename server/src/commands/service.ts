import type { RelationalStore } from '../stores/relational/index.ts';
import type { CacheStore } from '../stores/cache/index.ts';
import type { Logger } from '../obs/logger.ts';
import type { Auditor } from './audit.ts';
import { every, type Periodic } from '../jobs/every.ts';
import { createPublisher } from './events.ts';
import { createDelivery } from './delivery.ts';
import { createLocalDevices } from './local-devices.ts';
import { createOutputLedger } from './output-ledger.ts';
import { outputEvents } from './live-output.ts';
import { cancelCommand, runCommand, type Requester, type RunInput } from './requests.ts';
import { failUnreported, getCommand, listCommands, type ListFilter } from './repository.ts';
import { readOutput } from './output-store.ts';
import { REPORT_GRACE_SEC } from './limits.ts';
import type { CommandResult, OutputEvent } from './types.ts';

const SWEEP_MS = 5_000;

export interface CommandServiceDeps {
  db: RelationalStore;
  cache: CacheStore;
  log: Logger;
  audit: Auditor;
  maxOutputBytes?: number;
  sweepMs?: number;
}

/** Remote commands: what people ask for, what agents are sent and report, and the live output in between. */
export function createCommandService(deps: CommandServiceDeps) {
  const { db, cache, log } = deps;
  const publisher = createPublisher(cache, log);
  const local = createLocalDevices();
  const ledger = createOutputLedger();
  const delivery = createDelivery({ db, cache, publisher, log, local, ledger, maxOutputBytes: deps.maxOutputBytes });

  const sweep = async () => {
    await delivery.expire();
    for (const id of await failUnreported(db, REPORT_GRACE_SEC)) {
      await publisher.result(await getCommand(db, null, id));
    }
  };
  let sweeper: Periodic | null = null;

  const service = {
    publisher,
    /** Starts the sweeper that expires queued commands and fails ones whose agent never reported. */
    start() {
      sweeper ??= every(deps.sweepMs ?? SWEEP_MS, 'command-sweeper', log, sweep);
    },
    sweep,
    run: (requester: Requester, input: RunInput) => runCommand({ db, local, ledger, publisher, auditor: deps.audit }, requester, input),
    cancel: (requester: Requester, id: string) => cancelCommand(db, publisher, deps.audit, requester, id),
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
    async stop() {
      await sweeper?.stop();
      sweeper = null;
    },
  };
  return service;
}
export type CommandService = ReturnType<typeof createCommandService>;
