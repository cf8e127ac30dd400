import type { TRPCClient } from '@trpc/client';
import type { AppRouter } from '@ninjait/server/router';
import type { Logger } from '../log.ts';

/** The agent's tRPC client over its WebSocket (the server authenticated the device on connect). */
export type AgentClient = TRPCClient<AppRouter>;

// The last `subscribe` overload returns an async iterator of what the server yields.
type Yielded<T> = T extends AsyncIterable<infer V> ? V : never;
/** What the server sends on `agent.commands`: run, cancel, and interactive shell messages. */
export type AgentMessage = Yielded<ReturnType<AgentClient['agent']['commands']['subscribe']>>;
export type RunMessage = Extract<AgentMessage, { type: 'run' }>;
export type CommandSpec = RunMessage['command'];
export type ShellMessage = Extract<AgentMessage, { type: 'shell-open' | 'shell-input' | 'shell-close' }>;
export type CommandResultInput = Parameters<AgentClient['agent']['commandResult']['mutate']>[0];
export type ResultStatus = CommandResultInput['status'];
export type OutputStream = 'stdout' | 'stderr';

export interface RunnerOptions {
  client: AgentClient;
  /** The agent's data folder; executed command ids go to `commands.db` there. */
  dataDir: string;
  log: Logger;
  platform?: NodeJS.Platform;
  /** At most one output batch per command this often (the first goes at once). */
  outputIntervalMs?: number;
  /** Resubscribe delay after the server ended the subscription with an error. */
  resubscribeDelayMs?: number;
}

export interface StoredResult {
  status: ResultStatus;
  exitCode: number | null;
  error: string | null;
}
