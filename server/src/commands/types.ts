/** The command state machine; the last five are final. */
export const COMMAND_STATUSES = ['queued', 'sent', 'running', 'succeeded', 'failed', 'timed_out', 'cancelled', 'expired'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];
export const FINAL_STATUSES: readonly CommandStatus[] = ['succeeded', 'failed', 'timed_out', 'cancelled', 'expired'];
export const UNFINISHED_STATUSES: readonly CommandStatus[] = ['queued', 'sent', 'running'];
export const isFinal = (status: CommandStatus) => FINAL_STATUSES.includes(status);

/** What the agent reports at the end of a run. */
export const AGENT_RESULT_STATUSES = ['succeeded', 'failed', 'timed_out', 'cancelled'] as const;
export type AgentResultStatus = (typeof AGENT_RESULT_STATUSES)[number];

export const SHELLS = ['sh', 'bash', 'powershell', 'cmd'] as const;
export type Shell = (typeof SHELLS)[number];
/** Script interpreters: the script is written to a file and run as `<interpreter> <file>`. */
export const INTERPRETERS = ['python3', 'perl', 'node'] as const;
export type Interpreter = (typeof INTERPRETERS)[number];

export type OutputStream = 'stdout' | 'stderr';

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

/** What the agent needs to run a command. */
export interface CommandSpec {
  id: string;
  shell: Shell;
  interpreter: Interpreter | null;
  script: string;
  timeoutSec: number;
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

/** Interactive shell messages carried to the device. */
export type ShellMessage =
  | { type: 'shell-open'; sessionId: string; shell: Shell; idleTimeoutSec: number }
  | { type: 'shell-input'; sessionId: string; data: string }
  | { type: 'shell-close'; sessionId: string };

/** What the agent's `agent.commands` subscription yields. */
export type AgentMessage =
  | { type: 'run'; command: CommandSpec }
  | { type: 'cancel'; id: string }
  | ShellMessage;

/** What instances publish on `device:<id>:commands` for the instance holding the device's socket. */
export type DeviceChannelMessage =
  | { type: 'run'; id: string }
  | { type: 'cancel'; id: string }
  | ShellMessage;
