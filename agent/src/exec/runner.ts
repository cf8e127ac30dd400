import { join } from 'node:path';
import { classify } from '../link/classify.ts';
import { backoffMs } from '@ninjait/shared';
import { COMMANDS_DB_FILE, openExecutedStore, type FinishedRecord } from './executed-store.ts';
import { holdQuickReports } from './quick-report.ts';
import { runCommand, type RunningCommand } from './run-command.ts';
import { createShellSessions, SHELL_OUTPUT_INTERVAL_MS } from './shell-sessions.ts';
import { createRemoteHandler } from '../remote/index.ts';
import { untilDelivered } from './reliable.ts';
import type { Chunk } from './chunk-batcher.ts';
import type { AgentMessage, CommandSpec, RunnerOptions, StoredResult } from './types.ts';

export interface CommandRunner {
  /** Commands running now. */
  readonly running: number;
  /** Unsubscribes, kills running commands and shells, closes `commands.db`. */
  stop(): Promise<void>;
}

/**
 * Subscribes to `agent.commands` on the agent's socket and runs what arrives. Each command id is
 * recorded in `commands.db` before it starts, so a redelivery (reconnect, another instance)
 * never runs it twice: a finished one has its stored result reported again; one that was
 * running when the agent died is reported failed, not re-run.
 */
export function startCommandRunner(options: RunnerOptions): CommandRunner {
  const { client, log } = options;
  const platform = options.platform ?? process.platform;
  const outputIntervalMs = options.outputIntervalMs ?? 50;
  const store = openExecutedStore(join(options.dataDir, COMMANDS_DB_FILE));
  const scriptDir = join(options.dataDir, 'exec-scripts');
  const stopping = new AbortController();
  const running = new Map<string, RunningCommand>();
  // A terminal's echo is what a typist waits for: its output is batched far more finely than a command's.
  const shells = createShellSessions({
    client, log, platform, outputIntervalMs: Math.min(outputIntervalMs, SHELL_OUTPUT_INTERVAL_MS), signal: stopping.signal, usePty: options.usePty ?? true,
  });
  const remote = createRemoteHandler({
    client, log, platform, fileRoots: options.fileRoots ?? [],
    ...(options.sendFrame ? { sendFrame: options.sendFrame } : {}), ...(options.openStream ? { openStream: options.openStream } : {}),
  });
  const stopFrames = options.onFrame?.((frame) => void remote.handleFrame(frame).catch((error: unknown) => log.error({ err: error }, 'upload frame handling failed')));

  const deliver = <T>(what: string, commandId: string, send: () => Promise<T>) =>
    untilDelivered(send, stopping.signal, (error, attempt) => {
      if (attempt === 1 || attempt % 10 === 0) log.warn({ err: error, commandId, attempt }, `could not report command ${what}; retrying`);
    });

  /**
   * The result, with the output it carries (a quick command's) inside it where the server said it
   * takes that (`outputInResult`); otherwise that output goes first as its own report.
   */
  const reportResult = async (commandId: string, { status, exitCode, error, output }: FinishedRecord, outputInResult: boolean) => {
    if (output && !outputInResult) {
      await deliver('output', commandId, () => client.agent.commandOutput.mutate({ commandId, chunks: output }))
        .catch((refused: unknown) => log.warn({ err: refused, commandId }, 'dropped command output the server refused'));
    }
    const carried = output && outputInResult ? { output } : {};
    return deliver('result', commandId, () => client.agent.commandResult.mutate({ commandId, status, exitCode, error, ...carried }));
  };

  async function execute(spec: CommandSpec) {
    const outputInResult = spec.outputInResult === true;
    const reports = {
      started: async () => void await deliver('start', spec.id, () => client.agent.commandStarted.mutate({ commandId: spec.id })),
      output: async (chunks: Chunk[]) => void await deliver('output', spec.id, () => client.agent.commandOutput.mutate({ commandId: spec.id, chunks })),
      onError: (error: unknown) => log.warn({ err: error, commandId: spec.id }, 'dropped command output the server refused'),
    };
    // Where the server takes output in the result, a command done within the hold is one call.
    const quick = outputInResult ? holdQuickReports(reports) : null;
    const command = runCommand(spec, { scriptDir, platform, outputIntervalMs, ...reports, ...(quick ? { started: quick.started, output: quick.output } : {}) });
    running.set(spec.id, command);
    log.info({ commandId: spec.id, shell: spec.shell, interpreter: spec.interpreter, timeoutSec: spec.timeoutSec }, 'running command');
    let result: StoredResult;
    try {
      result = await command.done;
    } catch (error) {
      result = { status: 'failed', exitCode: null, error: `The agent could not run the command: ${(error as Error).message}` };
    }
    running.delete(spec.id);
    const output = await quick?.finish();
    const record: FinishedRecord = output && output.length > 0 ? { ...result, output } : result;
    store.finish(spec.id, record);
    log.info({ commandId: spec.id, status: result.status, exitCode: result.exitCode }, 'command finished');
    await reportResult(spec.id, record, outputInResult);
  }

  async function handle(message: AgentMessage) {
    if (message.type === 'run') {
      const { command: spec } = message;
      if (running.has(spec.id)) return;
      const record = store.get(spec.id);
      if (record?.state === 'finished') return void await reportResult(spec.id, record, spec.outputInResult === true);
      if (record?.state === 'running' || !store.begin(spec.id)) {
        const result: StoredResult = { status: 'failed', exitCode: null, error: 'The agent restarted while the command was running; it was not run again' };
        store.finish(spec.id, result);
        return void await reportResult(spec.id, result, false);
      }
      return execute(spec);
    }
    if (message.type === 'cancel') {
      const current = running.get(message.id);
      if (current) return current.cancel();
      const record = store.get(message.id);
      // A cancel says nothing of what the server takes: output kept with the result goes first, on its own.
      if (record?.state === 'finished') return void await reportResult(message.id, record, false);
      // Cancelled before it ever arrived: recorded as done so a late delivery does not run it.
      const result: StoredResult = { status: 'cancelled', exitCode: null, error: 'Cancelled before it started' };
      store.finish(message.id, result);
      return void await reportResult(message.id, result, false);
    }
    if (message.type === 'remote') return remote.handle(message);
    shells.handle(message);
  }

  let subscription: { unsubscribe(): void } | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let failures = 0;
  const retry = { baseMs: options.resubscribeDelayMs ?? 2_000, maxMs: options.resubscribeMaxDelayMs ?? 5 * 60_000 };
  const resubscribeIn = (ms: number) => {
    if (!stopping.signal.aborted) retryTimer = setTimeout(subscribe, ms);
  };
  const subscribe = () => {
    if (stopping.signal.aborted) return;
    subscription = client.agent.commands.subscribe(undefined, {
      onStarted: () => void (failures = 0),
      onData: (message) => {
        handle(message).catch((error: unknown) => log.error({ err: error, message: message.type }, 'command handling failed'));
      },
      // The link resubscribes by itself across reconnects; an error ends the subscription, so start
      // again, with backoff: a server that keeps refusing must not get (or cause) a line every 2 s.
      onError: (error) => {
        const e = classify(error);
        const delay = backoffMs(failures++, retry);
        if (e.code === 'UNAUTHORIZED' && options.refusal) return resubscribeIn(Math.max(delay, options.refusal.refused(e.message)));
        log.warn({ code: e.code, err: e.message, retryInMs: delay }, 'command subscription ended with an error; subscribing again');
        resubscribeIn(delay);
      },
      onComplete: () => resubscribeIn(retry.baseMs),
    });
  };
  subscribe();

  return {
    get running() {
      return running.size;
    },
    async stop() {
      stopping.abort();
      stopFrames?.();
      if (retryTimer) clearTimeout(retryTimer);
      subscription?.unsubscribe();
      remote.stop();
      for (const command of running.values()) command.cancel();
      await Promise.allSettled([...running.values()].map((command) => command.done));
      store.close();
    },
  };
}
