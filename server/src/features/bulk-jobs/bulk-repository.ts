import type { SqlExecutor } from '../../stores/relational/index.ts';
import type { Interpreter, Shell } from '../commands/types.ts';

export interface BulkJob {
  id: string;
  organizationId: string;
  requestedBy: string | null;
  requestedByLabel: string;
  name: string;
  shell: Shell;
  interpreter: Interpreter | null;
  script: string;
  /** Environment variables each device's command gets (a saved script's parameters), or null. */
  env: Record<string, string> | null;
  timeoutSec: number;
  expiresInSec: number;
  concurrency: number;
  maxAttempts: number;
  status: 'running' | 'completed' | 'cancelled';
  total: number;
  createdAt: Date;
  finishedAt: Date | null;
}

export type TargetStatus = 'pending' | 'enqueued' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface BulkTarget {
  deviceId: string;
  deviceName: string | null;
  status: TargetStatus;
  attempts: number;
  commandId: string | null;
  exitCode: number | null;
  error: string | null;
  updatedAt: Date;
}

export const JOB_COLUMNS = `id, organization_id AS "organizationId", requested_by AS "requestedBy", requested_by_label AS "requestedByLabel",
  name, shell, interpreter, script, env, timeout_sec AS "timeoutSec", expires_in_sec AS "expiresInSec", concurrency,
  max_attempts AS "maxAttempts", status, total, created_at AS "createdAt", finished_at AS "finishedAt"`;

/** The organization's live devices among `deviceIds` (null: all of them), with whether each is approved. */
export async function selectJobDevices(db: SqlExecutor, organizationId: string, deviceIds: readonly string[] | null) {
  const { rows } = await db.query<{ id: string; osType: string | null; approved: boolean }>(
    `SELECT id, os_type AS "osType", approval_state = 'approved' AS approved FROM devices
     WHERE organization_id = $1 AND decommissioned_at IS NULL AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[])) ORDER BY id`,
    [organizationId, deviceIds],
  );
  return rows;
}

export async function getJob(db: SqlExecutor, organizationId: string | null, id: string): Promise<BulkJob | null> {
  const { rows } = await db.query<BulkJob>(
    `SELECT ${JOB_COLUMNS} FROM bulk_jobs WHERE id = $1 AND ($2::uuid IS NULL OR organization_id = $2)`, [id, organizationId]);
  return rows[0] ?? null;
}

/** Moves up to `count` pending targets to `enqueued`; SKIP LOCKED lets instances promote at once without doubles. */
export async function claimPending(db: SqlExecutor, jobId: string, count: number): Promise<string[]> {
  const { rows } = await db.query<{ deviceId: string }>(
    `UPDATE bulk_job_targets t SET status = 'enqueued', updated_at = NOW()
     FROM (SELECT device_id FROM bulk_job_targets WHERE job_id = $1 AND status = 'pending'
           ORDER BY device_id LIMIT $2 FOR UPDATE SKIP LOCKED) p
     WHERE t.job_id = $1 AND t.device_id = p.device_id
     RETURNING t.device_id AS "deviceId"`,
    [jobId, count],
  );
  return rows.map((row) => row.deviceId);
}

export async function updateTarget(
  db: SqlExecutor,
  jobId: string,
  deviceId: string,
  fields: { status: TargetStatus; attempts?: number; commandId?: string | null; exitCode?: number | null; error?: string | null },
): Promise<void> {
  await db.query(
    `UPDATE bulk_job_targets SET status = $3, attempts = COALESCE($4::int, attempts),
       command_id = CASE WHEN $5::boolean THEN $6::uuid ELSE command_id END,
       exit_code = CASE WHEN $7::boolean THEN $8::int ELSE exit_code END,
       error = CASE WHEN $9::boolean THEN $10::text ELSE error END, updated_at = NOW()
     WHERE job_id = $1 AND device_id = $2`,
    [jobId, deviceId, fields.status, fields.attempts ?? null,
      'commandId' in fields, fields.commandId ?? null, 'exitCode' in fields, fields.exitCode ?? null, 'error' in fields, fields.error ?? null],
  );
}

export async function getTarget(db: SqlExecutor, jobId: string, deviceId: string) {
  const { rows } = await db.query<{ status: TargetStatus; attempts: number; commandId: string | null }>(
    `SELECT status, attempts, command_id AS "commandId" FROM bulk_job_targets WHERE job_id = $1 AND device_id = $2`, [jobId, deviceId]);
  return rows[0] ?? null;
}

/** Marks the job completed once no target is left to run; returns true the one time it happens. */
export async function completeIfDone(db: SqlExecutor, jobId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE bulk_jobs SET status = 'completed', finished_at = NOW()
     WHERE id = $1 AND status = 'running'
       AND NOT EXISTS (SELECT 1 FROM bulk_job_targets WHERE job_id = $1 AND status IN ('pending', 'enqueued', 'running'))`,
    [jobId],
  );
  return rowCount > 0;
}

export async function listTargets(db: SqlExecutor, jobId: string): Promise<BulkTarget[]> {
  const { rows } = await db.query<BulkTarget>(
    `SELECT t.device_id AS "deviceId", d.name AS "deviceName", t.status, t.attempts, t.command_id AS "commandId",
       t.exit_code AS "exitCode", t.error, t.updated_at AS "updatedAt"
     FROM bulk_job_targets t LEFT JOIN devices d ON d.id = t.device_id
     WHERE t.job_id = $1 ORDER BY d.name, t.device_id`,
    [jobId],
  );
  return rows;
}
