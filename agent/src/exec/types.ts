import type { TRPCClient } from '@trpc/client';
import type { AgentMessage, AgentResultInput, AgentResultStatus } from '@ninjait/shared';
import type { AppRouter } from '@ninjait/server/router';
import type { CredentialRefusal } from '../link/refusal.ts';
import type { OpenStream } from '../remote/download-streams.ts';
import type { Logger } from '../log.ts';

/** The agent's tRPC client over its WebSocket (the server authenticated the device on connect). */
export type AgentClient = TRPCClient<AppRouter>;

/** What the server sends on `agent.commands` (run, cancel, shell messages): the protocol's types. */
export type { AgentMessage, CommandSpec, OutputStream, ShellMessage } from '@ninjait/shared';
export type RunMessage = Extract<AgentMessage, { type: 'run' }>;
export type CommandResultInput = AgentResultInput;
export type ResultStatus = AgentResultStatus;
export type RemoteMessage = Extract<AgentMessage, { type: 'remote' }>;

export interface RunnerOptions {
  client: AgentClient;
  /** The agent's data folder; executed command ids go to `commands.db` there. */
  dataDir: string;
  log: Logger;
  platform?: NodeJS.Platform;
  /** At most one output batch per command this often (the first goes at once). */
  outputIntervalMs?: number;
  /** First resubscribe delay after the server ended the subscription with an error; doubles per failure. */
  resubscribeDelayMs?: number;
  /** Ceiling of that backoff. */
  resubscribeMaxDelayMs?: number;
  /** Sends a binary frame on the agent's socket (download chunks); without it every answer is JSON. */
  sendFrame?: (frame: Buffer) => boolean;
  /** Opens a download stream's own connection to the server (remote/download-streams.ts); without it downloads go as chunks. */
  openStream?: OpenStream;
  /** Binary frames from the server (upload chunks) reach the runner here; returns an unsubscribe function. */
  onFrame?: (listener: (frame: Buffer) => void) => () => void;
  /** Told when the server refuses the device's credentials; it also paces the retries then. */
  refusal?: Pick<CredentialRefusal, 'refused'>;
  /** False: terminals are piped shells even where node-pty loads (NINJAIT_PTY=0). */
  usePty?: boolean;
  /** Folders file access must stay inside (NINJAIT_FILE_ROOTS); empty: anywhere the agent's account may go. */
  fileRoots?: readonly string[];
}

export interface StoredResult {
  status: ResultStatus;
  exitCode: number | null;
  error: string | null;
}
