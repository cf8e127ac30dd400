import type { SqlExecutor } from '../../stores/relational/index.ts';
import { notFound } from '../../platform/errors.ts';
import { WINDOWS_OS_TYPES, type OsFamily } from './shells.ts';
import type { AgentResultStatus, Command, CommandSpec, CommandStatus, Interpreter, Shell } from './types.ts';

export const COMMAND_COLUMNS = `id, organization_id AS "organizationId", device_id AS "deviceId", requested_by AS "requestedBy",
  requested_by_label AS "requestedByLabel", bulk_job_id AS "bulkJobId", shell, interpreter, script, timeout_sec AS "timeoutSec",
  status, exit_code AS "exitCode", error, output_bytes AS "outputBytes", output_truncated AS "outputTruncated",
  delivery_count AS "deliveryCount", created_at AS "createdAt", expires_at AS "expiresAt", sent_at AS "sentAt",
  started_at AS "startedAt", finished_at AS "finishedAt", cancel_requested_at AS "cancelRequestedAt"`;

const SPEC_COLUMNS = `id, shell, interpreter, script, timeout_sec AS "timeoutSec", env`;

/** The wire spec of a command row; `env` only when the command has one (plain commands look as they always did). */
export function toSpec(row: { id: string; shell: Shell; interpreter: Interpreter | null; script: string; timeoutSec: number; env?: Record<string, string> | null }): CommandSpec {
  const spec: CommandSpec = { id: row.id, shell: row.shell, interpreter: row.interpreter, script: row.script, timeoutSec: row.timeoutSec };
  if (row.env && Object.keys(row.env).length > 0) spec.env = row.env;
  return spec;
}

/** What a request fixes about a command; the rest (status, times, output) the state machine fills in. */
export interface NewCommand {
  deviceId: string;
  /** The requester's organization; null = any (the local admin). */
  organizationId: string | null;
  /** The shell per OS family (`shellsByFamily`); null where the requested one is not available. */
  shells: Record<OsFamily, Shell | null>;
  requestedBy: string | null;
  requestedByLabel: string;
  bulkJobId: string | null;
  interpreter: Interpreter | null;
  script: string;
  timeoutSec: number;
  expiresInSec: number;
  /** Environment variables for the process (script parameters), or null. */
  env: Record<string, string> | null;
  sourceIp: string | null;
  /** The device's stream is on this instance and takes it now: the row starts `sent`, claimed by its creator. */
  sentNow: boolean;
}

/**
 * Looks the device up and inserts the command in one statement: the device must be enrolled
 * (not decommissioned) in the organization and approved, and the shell is picked by its OS
 * family. No row means no such device; a row without a command means it waits for approval,
 * or its OS has no such shell (or none reported).
 */
export async function insertCommand(db: SqlExecutor, input: NewCommand): Promise<{ osType: string | null; deviceName: string; approved: boolean; command: Command | null } | null> {
  const { rows } = await db.query<Command & { osType: string | null; deviceName: string; approved: boolean }>(
    `WITH d AS (
       SELECT id, organization_id, os_type, name, approval_state = 'approved' AS approved,
         CASE WHEN os_type IS NULL OR os_type = '' THEN NULL WHEN lower(os_type) = ANY($12::text[]) THEN $13 ELSE $14 END AS shell
       FROM devices WHERE id = $1 AND ($2::uuid IS NULL OR organization_id = $2) AND decommissioned_at IS NULL),
     c AS (
       INSERT INTO commands (organization_id, device_id, requested_by, requested_by_label, bulk_job_id, shell, interpreter,
         script, timeout_sec, expires_at, source_ip, status, sent_at, delivery_count, env)
       SELECT d.organization_id, d.id, $3, $4, $5, d.shell, $6, $7, $8, NOW() + make_interval(secs => $9), $10::inet,
         CASE WHEN $11 THEN 'sent' ELSE 'queued' END, CASE WHEN $11 THEN NOW() END, CASE WHEN $11 THEN 1 ELSE 0 END, $15::jsonb
       FROM d WHERE d.shell IS NOT NULL AND d.approved
       RETURNING ${COMMAND_COLUMNS})
     SELECT d.os_type AS "osType", d.name AS "deviceName", d.approved, c.* FROM d LEFT JOIN c ON TRUE`,
    [input.deviceId, input.organizationId, input.requestedBy, input.requestedByLabel, input.bulkJobId, input.interpreter,
      input.script, input.timeoutSec, input.expiresInSec, input.sourceIp, input.sentNow,
      WINDOWS_OS_TYPES, input.shells.windows, input.shells.posix, input.env ? JSON.stringify(input.env) : null],
  );
  const row = rows[0];
  if (!row) return null;
  const { osType, deviceName, approved, ...command } = row;
  return { osType, deviceName, approved, command: command.id ? command : null };
}

/**
 * Gives a `sent` command that could not be handed to its stream (the socket closed meanwhile)
 * back to the queue, so whichever instance holds the device next claims it. False when it moved on.
 */
export async function requeueUnsent(db: SqlExecutor, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE commands SET status = 'queued', sent_at = NULL, delivery_count = delivery_count - 1
     WHERE id = $1 AND status = 'sent' AND started_at IS NULL`,
    [id],
  );
  return rowCount > 0;
}

/** One command of an organization (null = any, for the local admin); another organization's id is not found. */
export async function getCommand(db: SqlExecutor, organizationId: string | null, id: string, lock = false): Promise<Command> {
  const { rows } = await db.query<Command>(
    `SELECT ${COMMAND_COLUMNS} FROM commands WHERE id = $1 AND ($2::uuid IS NULL OR organization_id = $2)${lock ? ' FOR UPDATE' : ''}`,
    [id, organizationId],
  );
  if (!rows[0]) throw notFound('Command');
  return rows[0];
}

export interface ListFilter {
  organizationId: string;
  deviceId?: string | undefined;
  status?: CommandStatus[] | undefined;
  bulkJobId?: string | undefined;
  /** Keyset pagination: the `cursor` of the previous page. */
  before?: { createdAt: Date; id: string } | undefined;
  limit: number;
}

/** Newest first; the script is left out of lists (it can be 64 KiB). */
export async function listCommands(db: SqlExecutor, filter: ListFilter): Promise<Omit<Command, 'script'>[]> {
  const { rows } = await db.query<Command>(
    `SELECT ${COMMAND_COLUMNS.replace(' script,', ' left(script, 200) AS script,')} FROM commands
     WHERE organization_id = $1
       AND ($2::uuid IS NULL OR device_id = $2)
       AND ($3::text[] IS NULL OR status = ANY($3))
       AND ($4::uuid IS NULL OR bulk_job_id = $4)
       AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6::uuid))
     ORDER BY created_at DESC, id DESC LIMIT $7`,
    [filter.organizationId, filter.deviceId ?? null, filter.status ?? null, filter.bulkJobId ?? null,
      filter.before?.createdAt ?? null, filter.before?.id ?? null, filter.limit],
  );
  return rows;
}

/** Queued commands past their expiry become `expired` (the sweeper; a connecting device's go in `owedOnConnect`); returns their ids. */
export async function expireQueued(db: SqlExecutor): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE commands SET status = 'expired', finished_at = NOW(), error = 'Expired before the device came online'
     WHERE status = 'queued' AND expires_at <= NOW()
     RETURNING id`,
  );
  return rows.map((row) => row.id);
}

/** Claims one queued command for delivery (queued → sent); the status check makes the claim exclusive across instances. */
export async function claimQueued(db: SqlExecutor, deviceId: string, id: string): Promise<CommandSpec | null> {
  const { rows } = await db.query<CommandSpec & { env: Record<string, string> | null }>(
    `UPDATE commands SET status = 'sent', sent_at = NOW(), delivery_count = delivery_count + 1
     WHERE device_id = $1 AND id = $2 AND status = 'queued' AND expires_at > NOW()
     RETURNING ${SPEC_COLUMNS}`,
    [deviceId, id],
  );
  return rows[0] ? toSpec(rows[0]) : null;
}

/** What a device's stream owes it when it starts (see `owedOnConnect`). */
export interface Owed {
  /** Queued commands that expired while the device was away. */
  expired: string[];
  /** Commands sent before that may not have reached the agent; `cancel` when a cancel was asked meanwhile. */
  resend: { spec: CommandSpec; cancel: boolean }[];
  /** Queued commands claimed for this stream (queued → sent), oldest first. */
  claimed: CommandSpec[];
}

/**
 * Settles a device's unfinished commands when its stream starts, in one statement of three
 * updates on disjoint rows: queued ones past their expiry become `expired`; sent and running
 * ones are sent again (the socket may have dropped; the agent's record of executed ids keeps
 * them from running twice); queued ones are claimed. The status checks make each claim
 * exclusive across instances and sockets.
 */
export async function owedOnConnect(db: SqlExecutor, deviceId: string): Promise<Owed> {
  const { rows } = await db.query<CommandSpec & { env: Record<string, string> | null; kind: 'expired' | 'resend' | 'claimed'; cancelRequested: boolean }>(
    `WITH expired AS (
       UPDATE commands SET status = 'expired', finished_at = NOW(), error = 'Expired before the device came online'
       WHERE device_id = $1 AND status = 'queued' AND expires_at <= NOW()
       RETURNING id, created_at),
     resent AS (
       UPDATE commands SET delivery_count = delivery_count + 1
       WHERE device_id = $1 AND status IN ('sent', 'running')
       RETURNING ${SPEC_COLUMNS}, cancel_requested_at IS NOT NULL AS "cancelRequested", created_at),
     claimed AS (
       UPDATE commands SET status = 'sent', sent_at = NOW(), delivery_count = delivery_count + 1
       WHERE device_id = $1 AND status = 'queued' AND expires_at > NOW()
       RETURNING ${SPEC_COLUMNS}, created_at)
     SELECT 'resend' AS kind, id, shell, interpreter, script, "timeoutSec", env, "cancelRequested", created_at FROM resent
     UNION ALL SELECT 'claimed', id, shell, interpreter, script, "timeoutSec", env, FALSE, created_at FROM claimed
     UNION ALL SELECT 'expired', id, NULL, NULL, NULL, NULL, NULL::jsonb, FALSE, created_at FROM expired
     ORDER BY created_at, id`,
    [deviceId],
  );
  const owed: Owed = { expired: [], resend: [], claimed: [] };
  for (const { kind, cancelRequested, ...row } of rows) {
    const spec = toSpec(row);
    if (kind === 'expired') owed.expired.push(row.id);
    else if (kind === 'resend') owed.resend.push({ spec, cancel: cancelRequested });
    else owed.claimed.push(spec);
  }
  return owed;
}

/** sent → running, when the agent says it started the process. */
export async function markRunning(db: SqlExecutor, deviceId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE commands SET status = 'running', started_at = COALESCE(started_at, NOW())
     WHERE id = $1 AND device_id = $2 AND status = 'sent'`,
    [id, deviceId],
  );
  return rowCount > 0;
}

/**
 * The agent's result; a cancel requested before it arrived wins over `failed`. No-op on a final row.
 * `lastSeq` (highest stored chunk, -1 for none) lets live streams skip re-reading output they have seen.
 */
export async function finishFromAgent(
  db: SqlExecutor,
  deviceId: string,
  id: string,
  result: { status: AgentResultStatus; exitCode: number | null; error: string | null },
): Promise<(Command & { lastSeq: number }) | null> {
  const { rows } = await db.query<Command & { lastSeq: number }>(
    `UPDATE commands SET
       status = CASE WHEN cancel_requested_at IS NOT NULL AND $3 IN ('failed', 'cancelled') THEN 'cancelled' ELSE $3 END,
       exit_code = $4, error = $5, finished_at = NOW(), started_at = COALESCE(started_at, NOW())
     WHERE id = $1 AND device_id = $2 AND status IN ('sent', 'running')
     RETURNING ${COMMAND_COLUMNS},
       COALESCE((SELECT max(seq) FROM command_output o WHERE o.command_id = commands.id), -1) AS "lastSeq"`,
    [id, deviceId, result.status, result.exitCode, result.error],
  );
  return rows[0] ?? null;
}

/** Commands whose agent never reported, long after their timeout: failed so they do not hang forever. */
export async function failUnreported(db: SqlExecutor, graceSec: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE commands SET status = 'timed_out', finished_at = NOW(),
       error = 'The agent did not report a result within the timeout'
     WHERE status IN ('sent', 'running')
       AND COALESCE(started_at, sent_at) + make_interval(secs => timeout_sec + $1) < NOW()
     RETURNING id`,
    [graceSec],
  );
  return rows.map((row) => row.id);
}
