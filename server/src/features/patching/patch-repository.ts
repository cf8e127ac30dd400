import type { PatchResult, PatchSpec } from '@ninjait/shared';
import type { SqlExecutor } from '../../stores/relational/index.ts';

export type DeploymentStatus = 'scheduled' | 'enqueued' | 'ready' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const FINAL_DEPLOYMENT: readonly DeploymentStatus[] = ['succeeded', 'failed', 'cancelled'];

export interface Deployment {
  id: string;
  organizationId: string;
  deviceId: string;
  deviceName: string | null;
  patches: PatchSpec[];
  status: DeploymentStatus;
  notBefore: Date;
  windowEndsAt: Date | null;
  attempts: number;
  maxAttempts: number;
  results: PatchResult[];
  progress: string;
  error: string | null;
  requestedByLabel: string;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

const COLUMNS = `p.id, p.organization_id AS "organizationId", p.device_id AS "deviceId", d.name AS "deviceName", p.patches, p.status,
  p.not_before AS "notBefore", p.window_ends_at AS "windowEndsAt", p.attempts, p.max_attempts AS "maxAttempts", p.results, p.progress,
  p.error, p.requested_by_label AS "requestedByLabel", p.created_at AS "createdAt", p.updated_at AS "updatedAt", p.finished_at AS "finishedAt"`;
const FROM = 'FROM patch_deployments p LEFT JOIN devices d ON d.id = p.device_id';
/** Progress text kept per deployment: the tail of the package manager's output. */
const PROGRESS_CHARS = 16_000;

export async function approvedNames(db: SqlExecutor, organizationId: string): Promise<Set<string>> {
  const { rows } = await db.query<{ name: string }>('SELECT name FROM patch_approvals WHERE organization_id = $1', [organizationId]);
  return new Set(rows.map((row) => row.name));
}

export async function approve(db: SqlExecutor, organizationId: string, names: string[], label: string): Promise<void> {
  await db.query(
    `INSERT INTO patch_approvals (organization_id, name, approved_by_label) SELECT $1, lower(n), $3 FROM unnest($2::text[]) AS n
     ON CONFLICT (organization_id, name) DO NOTHING`, [organizationId, names, label]);
}

export async function revoke(db: SqlExecutor, organizationId: string, names: string[]): Promise<void> {
  await db.query('DELETE FROM patch_approvals WHERE organization_id = $1 AND name = ANY(SELECT lower(n) FROM unnest($2::text[]) AS n)', [organizationId, names]);
}

/** The organization's live, approved devices among `deviceIds` (null: all). */
export async function deployableDevices(db: SqlExecutor, organizationId: string, deviceIds: string[] | null) {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM devices WHERE organization_id = $1 AND decommissioned_at IS NULL AND approval_state = 'approved'
       AND ($2::uuid[] IS NULL OR id = ANY($2::uuid[])) ORDER BY id`, [organizationId, deviceIds]);
  return rows.map((row) => row.id);
}

export async function insertDeployment(db: SqlExecutor, row: {
  organizationId: string; deviceId: string; patches: PatchSpec[]; notBefore: Date; windowEndsAt: Date; maxAttempts: number; label: string;
}): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO patch_deployments (organization_id, device_id, patches, not_before, window_ends_at, max_attempts, requested_by_label)
     VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7) RETURNING id`,
    [row.organizationId, row.deviceId, JSON.stringify(row.patches), row.notBefore, row.windowEndsAt, row.maxAttempts, row.label]);
  return rows[0]!.id;
}

export async function getDeployment(db: SqlExecutor, id: string, organizationId: string | null = null): Promise<Deployment | null> {
  const { rows } = await db.query<Deployment>(`SELECT ${COLUMNS} ${FROM} WHERE p.id = $1 AND ($2::uuid IS NULL OR p.organization_id = $2)`, [id, organizationId]);
  return rows[0] ?? null;
}

export async function listDeployments(db: SqlExecutor, organizationId: string, deviceId: string | null, limit: number) {
  const { rows } = await db.query<Deployment>(
    `SELECT ${COLUMNS} ${FROM} WHERE p.organization_id = $1 AND ($2::uuid IS NULL OR p.device_id = $2) ORDER BY p.created_at DESC LIMIT $3`,
    [organizationId, deviceId, limit]);
  return rows;
}

/** Device ids with a deployment not finished yet (auto-approval skips them). */
export async function devicesWithOpenDeployments(db: SqlExecutor, organizationId: string): Promise<Set<string>> {
  const { rows } = await db.query<{ deviceId: string }>(
    `SELECT DISTINCT device_id AS "deviceId" FROM patch_deployments WHERE organization_id = $1 AND status NOT IN ('succeeded', 'failed', 'cancelled')`,
    [organizationId]);
  return new Set(rows.map((row) => row.deviceId));
}

/**
 * Moves due deployments to `enqueued`, keeping each organization under `perOrganization` running
 * at once. An advisory lock makes instances take turns, so two cannot both fill the same room.
 */
export async function promoteDue(db: SqlExecutor, perOrganization: number, batch: number) {
  await db.query('SELECT pg_advisory_xact_lock(hashtext($1))', ['patch-deployment-promote']);
  const { rows } = await db.query<{ id: string; deviceId: string; patches: PatchSpec[]; attempts: number }>(
    `WITH busy AS (
       SELECT organization_id, COUNT(*)::int AS n FROM patch_deployments WHERE status IN ('enqueued', 'ready', 'running') GROUP BY organization_id),
     due AS (
       SELECT p.id, ROW_NUMBER() OVER (PARTITION BY p.organization_id ORDER BY p.not_before, p.id) + COALESCE(b.n, 0) AS slot
       FROM patch_deployments p LEFT JOIN busy b ON b.organization_id = p.organization_id
       WHERE p.status = 'scheduled' AND p.not_before <= NOW())
     UPDATE patch_deployments p SET status = 'enqueued', updated_at = NOW()
     FROM (SELECT id FROM due WHERE slot <= $1 LIMIT $2) picked WHERE p.id = picked.id
     RETURNING p.id, p.device_id AS "deviceId", p.patches, p.attempts`,
    [perOrganization, batch]);
  return rows;
}

/** Deployments that should be on the queue (after a restart of the embedded queue, they are not): re-added, harmlessly. */
export async function enqueuedDeployments(db: SqlExecutor, limit: number) {
  const { rows } = await db.query<{ id: string; deviceId: string; patches: PatchSpec[]; attempts: number }>(
    `SELECT id, device_id AS "deviceId", patches, attempts FROM patch_deployments WHERE status = 'enqueued'
     ORDER BY updated_at LIMIT $1`, [limit]);
  return rows;
}

/** Offered or running deployments whose window closed: failed, saying whether the device ever took them. */
export async function expireDeployments(db: SqlExecutor): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE patch_deployments SET status = 'failed', finished_at = NOW(), updated_at = NOW(),
       error = CASE WHEN status = 'running' THEN 'No result from the device before the maintenance window closed'
                    ELSE 'The device did not connect during the maintenance window' END
     WHERE status IN ('scheduled', 'enqueued', 'ready', 'running') AND window_ends_at < NOW() RETURNING id`);
  return rows.map((row) => row.id);
}

/** Compare-and-set on the status; returns whether this caller made the move. */
export async function moveDeployment(db: SqlExecutor, id: string, from: readonly DeploymentStatus[], to: DeploymentStatus,
  fields: { error?: string | null; results?: PatchResult[]; bumpAttempt?: boolean; deviceId?: string; notBefore?: Date } = {}): Promise<boolean> {
  const final = FINAL_DEPLOYMENT.includes(to);
  const { rowCount } = await db.query(
    `UPDATE patch_deployments SET status = $3, updated_at = NOW(), error = CASE WHEN $4::boolean THEN $5 ELSE error END,
       results = COALESCE($6::jsonb, results), attempts = attempts + CASE WHEN $7::boolean THEN 1 ELSE 0 END,
       finished_at = CASE WHEN $8::boolean THEN NOW() ELSE finished_at END, not_before = COALESCE($10::timestamptz, not_before)
     WHERE id = $1 AND status = ANY($2::text[]) AND ($9::uuid IS NULL OR device_id = $9)`,
    [id, from, to, 'error' in fields, fields.error ?? null, fields.results ? JSON.stringify(fields.results) : null, fields.bumpAttempt ?? false,
      final, fields.deviceId ?? null, fields.notBefore ?? null]);
  return rowCount > 0;
}

export async function appendProgress(db: SqlExecutor, id: string, deviceId: string, text: string): Promise<void> {
  await db.query(
    `UPDATE patch_deployments SET progress = right(progress || $3, ${PROGRESS_CHARS}), updated_at = NOW()
     WHERE id = $1 AND device_id = $2 AND status = 'running'`, [id, deviceId, text]);
}

/** Deployments offered to this device now (the service adds the reboot policy that applies to the device). */
export async function readyFor(db: SqlExecutor, deviceId: string): Promise<Array<{ id: string; organizationId: string; patches: PatchSpec[] }>> {
  const { rows } = await db.query<{ id: string; organizationId: string; patches: PatchSpec[] }>(
    `SELECT p.id, p.organization_id AS "organizationId", p.patches FROM patch_deployments p
     WHERE p.device_id = $1 AND p.status = 'ready' ORDER BY p.created_at LIMIT 5`, [deviceId]);
  return rows;
}

export async function deviceIsLive(db: SqlExecutor, deviceId: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM devices WHERE id = $1 AND decommissioned_at IS NULL', [deviceId]);
  return rows.length > 0;
}
