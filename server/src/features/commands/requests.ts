import type { RelationalStore } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { writeCommandAudit, type Auditor } from './audit.ts';
import type { Publisher } from './events.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { getCommand, insertCommand, insertCommands, markCancelRequested, requeueUnsent, toSpec } from './repository.ts';
import type { LocalDevices } from './local-devices.ts';
import type { OutputLedger } from './output-ledger.ts';
import { assertShellSupported, defaultShell, shellsByFamily } from './shells.ts';
import { MAX_SCRIPT_BYTES } from './limits.ts';
import { isFinal, type Command, type Interpreter, type Shell } from './types.ts';

/** Who asks: a person of one organization, or the local admin (organizationId null = any organization). */
export interface Requester {
  userId: string | null;
  label: string;
  organizationId: string | null;
  ip: string | null;
}

/** The machine's administrator using the local CLI (`ninjait run`, `shell`, `cp`): acts across organizations, audited as `local-admin`. */
export const localAdminRequester = (ip: string | null): Requester => ({ userId: null, label: 'local-admin', organizationId: null, ip });

export interface RunInput {
  deviceId: string;
  shell?: Shell | undefined;
  interpreter?: Interpreter | undefined;
  script: string;
  timeoutSec: number;
  expiresInSec: number;
  bulkJobId?: string | undefined;
  /** Environment variables for the process (a saved script's parameters); never part of the script text. */
  env?: Record<string, string> | undefined;
}

/** What people get for a device an admin has not approved yet: nothing reaches it until then. */
export const awaitingApproval = () =>
  new AppError('CONFLICT', 'This device is waiting for an admin to approve it; no command or shell reaches it until then');

/** Checks what zod cannot (bytes, blank scripts); typed errors before anything is written. */
export function assertScript(script: string): void {
  if (script.trim().length === 0) throw new AppError('BAD_REQUEST', 'The script is empty');
  const bytes = Buffer.byteLength(script, 'utf8');
  if (bytes > MAX_SCRIPT_BYTES) throw new AppError('PAYLOAD_TOO_LARGE', `The script is ${bytes} bytes; the limit is ${MAX_SCRIPT_BYTES}`);
  if (script.includes('\u0000')) throw new AppError('BAD_REQUEST', 'The script contains a NUL character');
}

/** What creating a command needs: the store, this instance's device streams, the cache for the others, the audit log. */
export interface RunDeps {
  db: RelationalStore;
  local: LocalDevices;
  ledger: OutputLedger;
  publisher: Publisher;
  auditor: Auditor;
}

/**
 * Creates the command, hands it to the device, and audits it. A device whose stream is on this
 * instance gets it at once (the row starts `sent`); any other is woken through the cache and
 * claims it, or finds it queued when it connects.
 */
export async function runCommand(deps: RunDeps, requester: Requester, input: RunInput): Promise<Command> {
  const { db, local } = deps;
  assertScript(input.script);
  const sentNow = local.has(input.deviceId);
  const inserted = await insertCommand(db, {
    deviceId: input.deviceId, organizationId: requester.organizationId, shells: shellsByFamily(input.shell),
    requestedBy: requester.userId, requestedByLabel: requester.label, bulkJobId: input.bulkJobId ?? null,
    interpreter: input.interpreter ?? null, script: input.script, timeoutSec: input.timeoutSec, expiresInSec: input.expiresInSec,
    env: input.env && Object.keys(input.env).length > 0 ? input.env : null,
    sourceIp: requester.ip, sentNow,
  });
  if (!inserted?.command) throw whyNoCommand(inserted, input.shell ?? defaultShell(inserted?.osType ?? null));
  const { command, deviceName } = inserted;
  // The device is reached first (latency); the audit entry is written alongside.
  await Promise.all([handOver(deps, command, sentNow, input.env), auditRun(deps.auditor, requester, command, deviceName, input.env)]);
  return command;
}

/** One script for many devices of one organization, on behalf of a bulk job (`insertMany`). */
export interface RunManyInput {
  bulkJobId: string;
  deviceIds: readonly string[];
  shell: Shell;
  interpreter: Interpreter | null;
  script: string;
  timeoutSec: number;
  expiresInSec: number;
  env: Record<string, string> | null;
}

/** What `insertMany` wrote: the commands to hand over once the caller committed, and the devices refused (why). */
export interface InsertedMany {
  commands: { command: Command; deviceName: string }[];
  refused: { deviceId: string; error: string }[];
  /** What `handOverMany` needs besides the commands. */
  requester: Requester;
  env: Record<string, string> | null;
  sentNow: ReadonlySet<string>;
}

/**
 * The commands of many devices in one statement, inside the caller's transaction (a bulk job's
 * wave sets its targets running in the same commit). Devices of this instance start `sent`. A
 * device refused (gone, waiting for approval, without the shell) gets the message `runCommand`
 * would have thrown. Nothing reaches a device until `handOverMany`, after the commit.
 */
export async function insertMany(tx: SqlExecutor, local: LocalDevices, requester: Requester & { organizationId: string }, input: RunManyInput): Promise<InsertedMany> {
  assertScript(input.script);
  const sentNow = new Set(input.deviceIds.filter((id) => local.has(id)));
  const env = input.env && Object.keys(input.env).length > 0 ? input.env : null;
  const rows = await insertCommands(tx, {
    deviceIds: input.deviceIds, organizationId: requester.organizationId, shells: shellsByFamily(input.shell), sentNow: [...sentNow],
    requestedBy: requester.userId, requestedByLabel: requester.label, bulkJobId: input.bulkJobId,
    interpreter: input.interpreter, script: input.script, timeoutSec: input.timeoutSec, expiresInSec: input.expiresInSec, env, sourceIp: requester.ip,
  });
  const found = new Map(rows.map((row) => [row.deviceId, row]));
  const inserted: InsertedMany = { commands: [], refused: [], requester, env, sentNow };
  for (const deviceId of input.deviceIds) {
    const row = found.get(deviceId);
    if (row?.command) {
      inserted.commands.push({ command: row.command, deviceName: row.deviceName });
      continue;
    }
    inserted.refused.push({ deviceId, error: whyNoCommand(row, input.shell).message });
  }
  return inserted;
}

/**
 * Why a device got no command (nothing was written), as a look-up first would have said: no such
 * live device of the organization, waiting for approval, or no such shell on its OS.
 */
function whyNoCommand(row: { osType: string | null; approved: boolean } | null | undefined, shell: Shell): Error {
  if (!row) return notFound('Device');
  if (!row.approved) return awaitingApproval();
  try {
    assertShellSupported(row.osType, shell);
  } catch (error) {
    return error as Error;
  }
  return new Error(`No shell for a ${row.osType} device, yet "${shell}" passed the check`);
}

/**
 * After `insertMany` committed: every command goes to its device (this instance's streams
 * directly, others woken through the publisher) and is audited as `runCommand` audits one; the
 * audit writer stores concurrent entries in shared inserts.
 */
export async function handOverMany(deps: Omit<RunDeps, 'db'> & { db: RelationalStore }, inserted: InsertedMany): Promise<void> {
  const { requester, env } = inserted;
  await Promise.all(inserted.commands.map(({ command, deviceName }) => Promise.all([
    handOver(deps, command, inserted.sentNow.has(command.deviceId), env ?? undefined),
    auditRun(deps.auditor, requester, command, deviceName, env ?? undefined),
  ])));
}

/** The `command.run` entry of one command, run alone or by a bulk job's wave. */
function auditRun(auditor: RunDeps['auditor'], requester: Requester, command: Command, deviceName: string, env: Record<string, string> | undefined) {
  return writeCommandAudit(auditor, {
    organizationId: command.organizationId, userId: requester.userId, action: 'command.run', resourceId: command.id,
    ipAddress: requester.ip,
    details: {
      deviceId: command.deviceId, deviceName, shell: command.shell, interpreter: command.interpreter, timeoutSec: command.timeoutSec,
      expiresAt: command.expiresAt, requestedBy: requester.label, bulkJobId: command.bulkJobId,
      scriptBytes: Buffer.byteLength(command.script, 'utf8'), script: command.script.slice(0, 4096),
      ...(env ? { parameters: Object.keys(env) } : {}),
    },
  });
}

/** Gives a new command to the device's stream here, or wakes whichever instance holds the device. */
async function handOver({ db, local, ledger, publisher }: RunDeps, command: Command, sentNow: boolean, env: Record<string, string> | undefined): Promise<void> {
  const spec = toSpec({ ...command, env: env ?? null });
  // Its output will come to this instance: the first batch needs no read of the (empty) accounting.
  if (sentNow) ledger.set(command.id, { outputBytes: 0, truncated: false, nextSeq: 0 });
  if (sentNow && local.deliver(command.deviceId, { type: 'run', command: spec })) return;
  ledger.delete(command.id);
  // The stream ended since it was looked up (the agent reconnects, maybe elsewhere): queued again, claimed there.
  if (sentNow && !(await requeueUnsent(db, command.id))) return;
  await publisher.toDevice(command.deviceId, { type: 'run', id: command.id });
}

/**
 * Cancels a command: a queued one is cancelled at once; a sent or running one is marked and the
 * agent asked to kill it (it reports `cancelled`). A finished command is a CONFLICT.
 */
export async function cancelCommand(db: RelationalStore, publisher: Publisher, auditor: Auditor, requester: Requester, id: string): Promise<Command> {
  const command = await db.transaction(async (tx) => {
    const current = await getCommand(tx, requester.organizationId, id, true);
    if (isFinal(current.status)) throw new AppError('CONFLICT', `The command already finished (${current.status}); nothing to cancel`);
    return { ...current, ...(await markCancelRequested(tx, id)), previousStatus: current.status };
  });
  await writeCommandAudit(auditor, {
    organizationId: command.organizationId, userId: requester.userId, action: 'command.cancel', resourceId: id,
    ipAddress: requester.ip, details: { deviceId: command.deviceId, previousStatus: command.previousStatus, requestedBy: requester.label },
  });
  if (command.status === 'cancelled') await publisher.result(command);
  else await publisher.toDevice(command.deviceId, { type: 'cancel', id });
  return command;
}
