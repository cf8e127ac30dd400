import { z } from 'zod';
import { boundedText } from '../schemas/bounds.ts';
import type { RemoteOp } from '../schemas/remote.ts';

/**
 * Remote commands and interactive shells as they cross the wire: what the server sends on the
 * agent's `agent.commands` subscription, and what the agent reports back. The server's command
 * store and the agent's runner both build on these; neither holds its own copy.
 */

/** What the agent reports at the end of a run. */
export const AGENT_RESULT_STATUSES = ['succeeded', 'failed', 'timed_out', 'cancelled'] as const;
export type AgentResultStatus = (typeof AGENT_RESULT_STATUSES)[number];

export const SHELLS = ['sh', 'bash', 'powershell', 'cmd'] as const;
export type Shell = (typeof SHELLS)[number];
/** Script interpreters: the script is written to a file and run as `<interpreter> <file>`. */
export const INTERPRETERS = ['python3', 'perl', 'node'] as const;
export type Interpreter = (typeof INTERPRETERS)[number];

export type OutputStream = 'stdout' | 'stderr';

/** One chunk of output from the agent, and one output batch's worth of chunks. */
export const MAX_CHUNK_BYTES = 64 * 1024;
export const MAX_CHUNKS_PER_BATCH = 64;
/** Output sequence numbers fit a signed 32-bit column. */
const MAX_OUTPUT_SEQ = 2 ** 31 - 1;

/** What the agent needs to run a command. */
export interface CommandSpec {
  id: string;
  shell: Shell;
  interpreter: Interpreter | null;
  script: string;
  timeoutSec: number;
  /**
   * Extra environment variables for the process (a saved script's parameters): values reach the
   * script as data, never as script text. Absent for plain commands; older agents ignore it.
   */
  env?: Record<string, string>;
  /**
   * The server takes a quick command's output inside its result (`agent.commandResult`'s
   * `output`): one call instead of started, output and result. Absent from older servers, whose
   * strict result schema would refuse the field; older agents ignore it and report in three calls.
   */
  outputInResult?: true;
}

/**
 * Interactive shell messages carried to the device. `cols`/`rows` size the terminal (an agent
 * without a pty ignores them, as do agents older than the terminal).
 */
export type ShellMessage =
  | { type: 'shell-open'; sessionId: string; shell: Shell; idleTimeoutSec: number; cols?: number; rows?: number }
  | { type: 'shell-input'; sessionId: string; data: string }
  | { type: 'shell-resize'; sessionId: string; cols: number; rows: number }
  | { type: 'shell-close'; sessionId: string };

/** A remote-access request (files, processes, services, logs): the agent answers with `agent.remoteResult`. */
export interface RemoteMessage {
  type: 'remote';
  requestId: string;
  op: RemoteOp;
  /**
   * The server takes this answer as a binary frame (`chunk-frames.ts`; download chunks only).
   * Optional: agents that predate it ignore it and answer with `agent.remoteResult`, which the
   * server still takes, and agents answer in binary only when offered.
   */
  answer?: 'binary';
}

/** What the agent's `agent.commands` subscription yields. */
export type AgentMessage =
  | { type: 'run'; command: CommandSpec }
  | { type: 'cancel'; id: string }
  | ShellMessage
  | RemoteMessage;

/**
 * A process exit code as an INTEGER column holds it. Windows reports codes as unsigned 32-bit
 * (0xC0000005 is 3221225477): they are stored as the signed value cmd.exe shows (-1073741819).
 */
export const exitCodeSchema = z.number().int().min(-(2 ** 31)).max(2 ** 32 - 1).transform((code) => code | 0);

// NUL cannot be stored in PostgreSQL text; output is for people, so it is dropped.
const chunkData = z.string().max(MAX_CHUNK_BYTES).transform((data) => data.replaceAll('\u0000', ''));

export const agentStartedSchema = z.object({ commandId: z.uuid() }).strict();

const outputBatchSchema = z.array(z.object({
  seq: z.number().int().min(0).max(MAX_OUTPUT_SEQ),
  stream: z.enum(['stdout', 'stderr']),
  data: chunkData,
}).strict()).min(1).max(MAX_CHUNKS_PER_BATCH);

export const agentOutputSchema = z.object({ commandId: z.uuid(), chunks: outputBatchSchema }).strict();

export const agentResultSchema = z.object({
  commandId: z.uuid(),
  status: z.enum(AGENT_RESULT_STATUSES),
  exitCode: exitCodeSchema.nullable(),
  error: boundedText(4096).nullable(),
  /**
   * Output not reported yet, stored before the result (a quick command's whole output, sent only
   * to a server whose spec said `outputInResult`). Absent: everything was sent with `commandOutput`.
   */
  output: outputBatchSchema.optional(),
}).strict();
export type AgentResultInput = z.input<typeof agentResultSchema>;

/** What the agent reports of an interactive shell session. */
export const shellEventSchema = z.discriminatedUnion('type', [
  // `pty`: false when the agent fell back to a piped shell (no terminal), absent from agents older than the terminal.
  z.object({ type: z.literal('opened'), sessionId: z.uuid(), pty: z.boolean().optional() }).strict(),
  z.object({ type: z.literal('output'), seq: z.number().int().min(0).max(MAX_OUTPUT_SEQ), stream: z.enum(['stdout', 'stderr']), data: z.string().max(MAX_CHUNK_BYTES) }).strict(),
  z.object({ type: z.literal('closed'), reason: boundedText(500), exitCode: exitCodeSchema.nullable() }).strict(),
]);
export type ShellEvent = z.infer<typeof shellEventSchema>;

export const agentShellOutputSchema = z.object({ sessionId: z.uuid(), event: shellEventSchema }).strict();
