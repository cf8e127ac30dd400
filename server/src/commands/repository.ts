import type { SqlExecutor } from '../stores/relational/index.ts';
import { notFound } from '../errors.ts';
import type { AgentResultStatus, Command, CommandSpec, CommandStatus } from './types.ts';

export const COMMAND_COLUMNS = `id, organization_id AS "organizationId", device_id AS "deviceId", requested_by AS "requestedBy",
  requested_by_label AS "requestedByLabel", bulk_job_id AS "bulkJobId", shell, interpreter, script, timeout_sec AS "timeoutSec",
  status, exit_code AS "exitCode", error, output_bytes AS "outputBytes", output_truncated AS "outputTruncated",
  delivery_count AS "deliveryCount", created_at AS "createdAt", expires_at AS "expiresAt", sent_at AS "sentAt",
  started_at AS "startedAt", finished_at AS "finishedAt", cancel_requested_at AS "cancelRequestedAt"`;

const SPEC_COLUMNS = `id, shell, interpreter, script, timeout_sec AS "timeoutSec"`;

/** What a request fixes about a command; the rest (status, times, output) the state machine fills in. */
export type NewCommand = Pick<Command, 'organizationId' | 'deviceId' | 'requestedBy' | 'requestedByLabel' | 'bulkJobId'
  | 'shell' | 'interpreter' | 'script' | 'timeoutSec'> & {
  expiresInSec: number;
  sourceIp: string | null;
};

export async function insertCommand(tx: SqlExecutor, input: NewCommand): Promise<Command> {
  const { rows } = await tx.query<Command>(
    `INSERT INTO commands (organization_id, device_id, requested_by, requested_by_label, bulk_job_id, shell, interpreter,
       script, timeout_sec, expires_at, source_ip)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NOW() + make_interval(secs => $10), $11::inet)
     RETURNING ${COMMAND_COLUMNS}`,
    [input.organizationId, input.deviceId, input.requestedBy, input.requestedByLabel, input.bulkJobId, input.shell,
      input.interpreter, input.script, input.timeoutSec, input.expiresInSec, input.sourceIp],
  );
  return rows[0]!;
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

/** Queued commands past their expiry become `expired`; returns their ids. */
export async function expireQueued(db: SqlExecutor, deviceId: string | null): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE commands SET status = 'expired', finished_at = NOW(), error = 'Expired before the device came online'
     WHERE status = 'queued' AND expires_at <= NOW() AND ($1::uuid IS NULL OR device_id = $1)
     RETURNING id`,
    [deviceId],
  );
  return rows.map((row) => row.id);
}

/**
 * Claims one queued command (or all of a device's when `id` is null) for delivery: queued → sent.
 * The status check makes the claim exclusive across instances and sockets.
 */
export async function claimQueued(db: SqlExecutor, deviceId: string, id: string | null): Promise<CommandSpec[]> {
  const { rows } = await db.query<CommandSpec>(
    `WITH claimed AS (
       UPDATE commands SET status = 'sent', sent_at = NOW(), delivery_count = delivery_count + 1
       WHERE device_id = $1 AND status = 'queued' AND expires_at > NOW() AND ($2::uuid IS NULL OR id = $2)
       RETURNING ${SPEC_COLUMNS}, created_at)
     SELECT id, shell, interpreter, script, "timeoutSec" FROM claimed ORDER BY created_at, id`,
    [deviceId, id],
  );
  return rows;
}

/**
 * Commands already sent that may not have reached the agent (the socket dropped): delivered
 * again on reconnect. The agent's own record of executed ids keeps them from running twice.
 */
export async function redeliverable(db: SqlExecutor, deviceId: string): Promise<{ spec: CommandSpec; cancel: boolean }[]> {
  const { rows } = await db.query<CommandSpec & { cancelRequested: boolean }>(
    `UPDATE commands SET delivery_count = delivery_count + 1
     WHERE device_id = $1 AND status IN ('sent', 'running')
     RETURNING ${SPEC_COLUMNS}, cancel_requested_at IS NOT NULL AS "cancelRequested"`,
    [deviceId],
  );
  return rows.map(({ cancelRequested, ...spec }) => ({ spec, cancel: cancelRequested }));
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

/** The agent's result; a cancel requested before it arrived wins over `failed`. No-op on a final row. */
export async function finishFromAgent(
  db: SqlExecutor,
  deviceId: string,
  id: string,
  result: { status: AgentResultStatus; exitCode: number | null; error: string | null },
): Promise<Command | null> {
  const { rows } = await db.query<Command>(
    `UPDATE commands SET
       status = CASE WHEN cancel_requested_at IS NOT NULL AND $3 IN ('failed', 'cancelled') THEN 'cancelled' ELSE $3 END,
       exit_code = $4, error = $5, finished_at = NOW(), started_at = COALESCE(started_at, NOW())
     WHERE id = $1 AND device_id = $2 AND status IN ('sent', 'running')
     RETURNING ${COMMAND_COLUMNS}`,
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
