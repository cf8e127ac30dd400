import type { Interpreter, OutputStream, RemoteMessage, Shell, ShellMessage } from '@ninjait/shared';

/** The command state machine; the last five are final. */
export const COMMAND_STATUSES = ['queued', 'sent', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'expired'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];
export const FINAL_STATUSES: readonly CommandStatus[] = ['succeeded', 'failed', 'timed_out', 'cancelled', 'expired'];
export const UNFINISHED_STATUSES: readonly CommandStatus[] = ['queued', 'sent', 'running'];
export const isFinal = (status: CommandStatus) => FINAL_STATUSES.includes(status);

// The wire half (what the agent receives and reports) belongs to the protocol in `shared`.
export { AGENT_RESULT_STATUSES, INTERPRETERS, SHELLS } from '@ninjait/shared';
export type { AgentMessage, AgentResultStatus, CommandSpec, Interpreter, OutputStream, RemoteMessage, Shell, ShellMessage } from '@ninjait/shared';

export interface Command {
  id: string;
  organizationId: string;
  deviceId: string;
  requestedBy: string | null;
  requestedByLabel: string;
  bulkJobId: string | null;
  shell: Shell;
  interpreter: Interpreter | null;
  script: string;
  timeoutSec: number;
  status: CommandStatus;
  exitCode: number | null;
  error: string | null;
  outputBytes: number;
  outputTruncated: boolean;
  deliveryCount: number;
  createdAt: Date;
  expiresAt: Date;
  sentAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  cancelRequestedAt: Date | null;
}

export interface OutputChunk {
  seq: number;
  stream: OutputStream;
  data: string;
}

export interface CommandResult {
  status: CommandStatus;
  exitCode: number | null;
  error: string | null;
  outputBytes: number;
  outputTruncated: boolean;
}

/** Live events of one command, as published on `command:<id>:output` and streamed to people. */
export type OutputEvent =
  | ({ type: 'chunk' } & OutputChunk)
  | ({ type: 'status'; status: CommandStatus })
  | ({ type: 'result' } & CommandResult);

/** What instances publish on `device:<id>:commands` for the instance holding the device's socket. */
export type DeviceChannelMessage =
  | { type: 'run'; id: string }
  | { type: 'cancel'; id: string }
  | ShellMessage
  | RemoteMessage;
