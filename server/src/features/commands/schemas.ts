import { z } from 'zod';
import {
  DEFAULT_EXPIRES_IN_SEC, DEFAULT_TIMEOUT_SEC, LIST_PAGE_MAX, MAX_EXPIRES_IN_SEC, MAX_SCRIPT_BYTES, MAX_TIMEOUT_SEC, MIN_EXPIRES_IN_SEC,
  MIN_TIMEOUT_SEC,
} from './limits.ts';
import { COMMAND_STATUSES, INTERPRETERS, SHELLS } from './types.ts';

// Characters, as a parse guard; the byte limit is checked after parsing (PAYLOAD_TOO_LARGE).
const scriptSchema = z.string().min(1, 'The script is empty').max(MAX_SCRIPT_BYTES * 4);

export const runInputSchema = z.object({
  deviceId: z.uuid(),
  /** Defaults to the device OS's usual shell: sh on Linux and macOS, PowerShell on Windows. */
  shell: z.enum(SHELLS).optional(),
  /** Run the script body with an interpreter instead of a shell. */
  interpreter: z.enum(INTERPRETERS).optional(),
  script: scriptSchema,
  timeoutSec: z.number().int().min(MIN_TIMEOUT_SEC).max(MAX_TIMEOUT_SEC).default(DEFAULT_TIMEOUT_SEC),
  /** How long a command for an offline device waits for it to come online. */
  expiresInSec: z.number().int().min(MIN_EXPIRES_IN_SEC).max(MAX_EXPIRES_IN_SEC).default(DEFAULT_EXPIRES_IN_SEC),
}).strict();

export const idInputSchema = z.object({ id: z.uuid() }).strict();

export const listInputSchema = z.object({
  deviceId: z.uuid().optional(),
  status: z.array(z.enum(COMMAND_STATUSES)).min(1).max(COMMAND_STATUSES.length).optional(),
  bulkJobId: z.uuid().optional(),
  limit: z.number().int().min(1).max(LIST_PAGE_MAX).default(50),
  /** `nextCursor` of the previous page. */
  cursor: z.string().max(200).optional(),
}).strict();

/** Keyset cursor: `<created_at ISO>|<id>`. */
export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return `${new Date(row.createdAt).toISOString()}|${row.id}`;
}
export function decodeCursor(cursor: string | undefined): { createdAt: Date; id: string } | undefined {
  if (!cursor) return undefined;
  const [at, id] = cursor.split('|');
  const createdAt = new Date(at ?? '');
  if (Number.isNaN(createdAt.getTime()) || !z.uuid().safeParse(id).success) return undefined;
  return { createdAt, id: id! };
}

// What the agent reports (started, output, result) is part of the wire protocol.
export { agentOutputSchema, agentResultSchema, agentStartedSchema, exitCodeSchema } from '@ninjait/shared';
