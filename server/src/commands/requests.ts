import type { RelationalStore } from '../stores/relational/index.ts';
import { AppError } from '../errors.ts';
import { writeCommandAudit, type Auditor } from './audit.ts';
import type { Publisher } from './events.ts';
import { getCommand, insertCommand } from './repository.ts';
import { targetDevice } from './device-ref.ts';
import { MAX_SCRIPT_BYTES } from './limits.ts';
import { isFinal, type Command, type Interpreter, type Shell } from './types.ts';

/** Who asks: a person of one organization, or the local admin (organizationId null = any organization). */
export interface Requester {
  userId: string | null;
  label: string;
  organizationId: string | null;
  ip: string | null;
}

export interface RunInput {
  deviceId: string;
  shell?: Shell | undefined;
  interpreter?: Interpreter | undefined;
  script: string;
  timeoutSec: number;
  expiresInSec: number;
  bulkJobId?: string | undefined;
}

/** Checks what zod cannot (bytes, blank scripts); typed errors before anything is written. */
export function assertScript(script: string): void {
  if (script.trim().length === 0) throw new AppError('BAD_REQUEST', 'The script is empty');
  const bytes = Buffer.byteLength(script, 'utf8');
  if (bytes > MAX_SCRIPT_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', `The script is ${bytes} bytes; the limit is ${MAX_SCRIPT_BYTES}`);
  if (script.includes('\u0000')) throw new AppError('BAD_REQUEST', 'The script contains a NUL character');
}

/** Creates the command and its audit entry in one transaction, then wakes the instance holding the device. */
export async function runCommand(db: RelationalStore, publisher: Publisher, auditor: Auditor, requester: Requester, input: RunInput): Promise<Command> {
  assertScript(input.script);
  const { command, deviceName } = await db.transaction(async (tx) => {
    const device = await targetDevice(tx, input.deviceId, requester.organizationId, input.shell);
    const { shell } = device;
    const created = await insertCommand(tx, {
      organizationId: device.organizationId, deviceId: input.deviceId, requestedBy: requester.userId,
      requestedByLabel: requester.label, bulkJobId: input.bulkJobId ?? null, shell, interpreter: input.interpreter ?? null,
      script: input.script, timeoutSec: input.timeoutSec, expiresInSec: input.expiresInSec, sourceIp: requester.ip,
    });
    return { command: created, deviceName: device.name };
  });
  // The device is woken first (latency); the audit entry is written alongside.
  await Promise.all([publisher.toDevice(command.deviceId, { type: 'run', id: command.id }), writeCommandAudit(auditor, {
    organizationId: command.organizationId, userId: requester.userId, action: 'command.run', resourceId: command.id,
    ipAddress: requester.ip,
    details: {
      deviceId: command.deviceId, deviceName, shell: command.shell, interpreter: command.interpreter, timeoutSec: command.timeoutSec,
      expiresAt: command.expiresAt, requestedBy: requester.label, bulkJobId: command.bulkJobId,
      scriptBytes: Buffer.byteLength(command.script, 'utf8'), script: command.script.slice(0, 4096),
    },
  })]);
  return command;
}

/**
 * Cancels a command: a queued one is cancelled at once; a sent or running one is marked and the
 * agent asked to kill it (it reports `cancelled`). A finished command is a CONFLICT.
 */
export async function cancelCommand(db: RelationalStore, publisher: Publisher, auditor: Auditor, requester: Requester, id: string): Promise<Command> {
  const command = await db.transaction(async (tx) => {
    const current = await getCommand(tx, requester.organizationId, id, true);
    if (isFinal(current.status)) throw new AppError('CONFLICT', `The command already finished (${current.status}); nothing to cancel`);
    const { rows } = await tx.query<Command>(
      `UPDATE commands SET cancel_requested_at = COALESCE(cancel_requested_at, NOW()),
         status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
         finished_at = CASE WHEN status = 'queued' THEN NOW() ELSE finished_at END,
         error = CASE WHEN status = 'queued' THEN 'Cancelled before delivery' ELSE error END
       WHERE id = $1 RETURNING id, status, device_id AS "deviceId", exit_code AS "exitCode", error,
         output_bytes AS "outputBytes", output_truncated AS "outputTruncated"`,
      [id],
    );
    return { ...current, ...rows[0]!, previousStatus: current.status };
  });
  await writeCommandAudit(auditor, {
    organizationId: command.organizationId, userId: requester.userId, action: 'command.cancel', resourceId: id,
    ipAddress: requester.ip, details: { deviceId: command.deviceId, previousStatus: command.previousStatus, requestedBy: requester.label },
  });
  if (command.status === 'cancelled') await publisher.result(command);
  else await publisher.toDevice(command.deviceId, { type: 'cancel', id });
  return command;
}
