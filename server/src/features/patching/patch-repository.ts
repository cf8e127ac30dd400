import type { PatchResult, PatchSpec } from '@ninjait/shared';
import { sql } from 'kysely';
import { anyText, anyUuid, typed, type SqlExecutor } from '../../stores/relational/index.ts';

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

/** Progress text kept per deployment: the tail of the package manager's output. */
const PROGRESS_CHARS = 16_000;

/** What the schema leaves wider than the rows are: values the code writes and JSON. */
type DeploymentNarrowing = { status: DeploymentStatus; patches: PatchSpec[]; results: PatchResult[] };

/** Deployments with their device's name, as `p`; the caller adds the filters. */
function selectDeployments(db: SqlExecutor) {
  return typed(db).selectFrom('patchDeployments as p').leftJoin('devices as d', 'd.id', 'p.deviceId')
    .select([
      'p.id', 'p.organizationId', 'p.deviceId', 'd.name as deviceName', 'p.patches', 'p.status', 'p.notBefore', 'p.windowEndsAt', 'p.attempts',
      'p.maxAttempts', 'p.results', 'p.progress', 'p.error', 'p.requestedByLabel', 'p.createdAt', 'p.updatedAt', 'p.finishedAt',
    ])
    .$narrowType<DeploymentNarrowing>();
}

/** Statuses as SQL literals, as the statements always named them. */
const literals = (statuses: readonly DeploymentStatus[]) => statuses.map((status) => sql.lit(status));
const OPEN_STATUSES = literals(['scheduled', 'enqueued', 'ready', 'running']);

export async function approvedNames(db: SqlExecutor, organizationId: string): Promise<Set<string>> {
  const rows = await typed(db).selectFrom('patchApprovals').select('name').where('organizationId', '=', organizationId).execute();
  return new Set(rows.map((row) => row.name));
}

export async function approve(db: SqlExecutor, organizationId: string, names: string[], label: string): Promise<void> {
  await typed(db).insertInto('patchApprovals').columns(['organizationId', 'name', 'approvedByLabel'])
    .expression(sql`SELECT ${organizationId}, lower(n), ${label} FROM unnest(${names}::text[]) AS n`)
    .onConflict((conflict) => conflict.columns(['organizationId', 'name']).doNothing())
    .execute();
}

export async function revoke(db: SqlExecutor, organizationId: string, names: string[]): Promise<void> {
  await typed(db).deleteFrom('patchApprovals').where('organizationId', '=', organizationId)
    .where('name', '=', sql<string>`ANY(SELECT lower(n) FROM unnest(${names}::text[]) AS n)`)
    .execute();
}

/** The organization's live, approved devices among `deviceIds` (null: all). */
export async function deployableDevices(db: SqlExecutor, organizationId: string, deviceIds: string[] | null) {
  const rows = await typed(db).selectFrom('devices').select('id')
    .where('organizationId', '=', organizationId).where('decommissionedAt', 'is', null).where('approvalState', '=', sql.lit('approved'))
    .$if(deviceIds !== null, (query) => query.where('id', '=', anyUuid(deviceIds!)))
    .orderBy('id')
    .execute();
  return rows.map((row) => row.id);
}

export async function insertDeployment(db: SqlExecutor, row: {
  organizationId: string; deviceId: string; patches: PatchSpec[]; notBefore: Date; windowEndsAt: Date; maxAttempts: number; label: string;
}): Promise<string> {
  const { id } = await typed(db).insertInto('patchDeployments')
    .values({
      organizationId: row.organizationId, deviceId: row.deviceId, patches: JSON.stringify(row.patches), notBefore: row.notBefore,
      windowEndsAt: row.windowEndsAt, maxAttempts: row.maxAttempts, requestedByLabel: row.label,
    })
    .returning('id').executeTakeFirstOrThrow();
  return id;
}

export async function getDeployment(db: SqlExecutor, id: string, organizationId: string | null = null): Promise<Deployment | null> {
  const row = await selectDeployments(db).where('p.id', '=', id)
    .$if(organizationId !== null, (query) => query.where('p.organizationId', '=', organizationId!))
    .executeTakeFirst();
  return row ?? null;
}

export async function listDeployments(db: SqlExecutor, organizationId: string, deviceId: string | null, limit: number): Promise<Deployment[]> {
  return selectDeployments(db).where('p.organizationId', '=', organizationId)
    .$if(deviceId !== null, (query) => query.where('p.deviceId', '=', deviceId!))
    .orderBy('p.createdAt', 'desc').limit(limit)
    .execute();
}

/** Device ids with a deployment not finished yet (auto-approval skips them). */
export async function devicesWithOpenDeployments(db: SqlExecutor, organizationId: string): Promise<Set<string>> {
  const rows = await typed(db).selectFrom('patchDeployments').select('deviceId').distinct()
    .where('organizationId', '=', organizationId).where('status', 'not in', literals(FINAL_DEPLOYMENT))
    .execute();
  return new Set(rows.map((row) => row.deviceId));
}

/** What the queue carries for a deployment. */
export interface QueuedDeployment { id: string; deviceId: string; patches: PatchSpec[]; attempts: number }

/**
 * Moves due deployments to `enqueued`, keeping each organization under `perOrganization` running
 * at once. An advisory lock makes instances take turns, so two cannot both fill the same room.
 */
export async function promoteDue(db: SqlExecutor, perOrganization: number, batch: number): Promise<QueuedDeployment[]> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${'patch-deployment-promote'}))`.execute(typed(db));
  return typed(db)
    .with('busy', (q) => q.selectFrom('patchDeployments').select((eb) => ['organizationId', eb.cast<number>(eb.fn.countAll(), 'integer').as('n')])
      .where('status', 'in', literals(['enqueued', 'ready', 'running'])).groupBy('organizationId'))
    .with('due', (q) => q.selectFrom('patchDeployments as p').leftJoin('busy as b', 'b.organizationId', 'p.organizationId')
      .select((eb) => ['p.id', sql<number>`ROW_NUMBER() OVER (PARTITION BY ${eb.ref('p.organizationId')} ORDER BY ${eb.ref('p.notBefore')}, ${eb.ref('p.id')}) + COALESCE(${eb.ref('b.n')}, 0)`.as('slot')])
      .where('p.status', '=', sql.lit('scheduled')).where('p.notBefore', '<=', sql<Date>`NOW()`))
    .updateTable('patchDeployments as p')
    .set({ status: sql.lit('enqueued'), updatedAt: sql<Date>`NOW()` })
    .from((eb) => eb.selectFrom('due').select('id').where('slot', '<=', perOrganization).limit(batch).as('picked'))
    .whereRef('p.id', '=', 'picked.id')
    .returning(['p.id', 'p.deviceId', 'p.patches', 'p.attempts'])
    .$narrowType<{ patches: PatchSpec[] }>()
    .execute();
}

/** Deployments that should be on the queue (after a restart of the embedded queue, they are not): re-added, harmlessly. */
export async function enqueuedDeployments(db: SqlExecutor, limit: number): Promise<QueuedDeployment[]> {
  return typed(db).selectFrom('patchDeployments').select(['id', 'deviceId', 'patches', 'attempts'])
    .where('status', '=', sql.lit('enqueued')).orderBy('updatedAt').limit(limit)
    .$narrowType<{ patches: PatchSpec[] }>()
    .execute();
}

/** Offered or running deployments whose window closed: failed, saying whether the device ever took them. */
export async function expireDeployments(db: SqlExecutor): Promise<string[]> {
  const rows = await typed(db).updateTable('patchDeployments')
    .set((eb) => ({
      status: sql.lit('failed'), finishedAt: sql<Date>`NOW()`, updatedAt: sql<Date>`NOW()`,
      error: eb.case().when('status', '=', sql.lit('running')).then(sql.lit('No result from the device before the maintenance window closed'))
        .else(sql.lit('The device did not connect during the maintenance window')).end(),
    }))
    .where('status', 'in', OPEN_STATUSES).where('windowEndsAt', '<', sql<Date>`NOW()`)
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
}

/** Compare-and-set on the status; returns whether this caller made the move. */
export async function moveDeployment(db: SqlExecutor, id: string, from: readonly DeploymentStatus[], to: DeploymentStatus,
  fields: { error?: string | null; results?: PatchResult[]; bumpAttempt?: boolean; deviceId?: string; notBefore?: Date } = {}): Promise<boolean> {
  const result = await typed(db).updateTable('patchDeployments')
    .set((eb) => ({
      status: to, updatedAt: sql<Date>`NOW()`,
      // Only the fields given change: a missing error leaves the one recorded, null clears it.
      ...('error' in fields ? { error: fields.error ?? null } : {}),
      ...(fields.results ? { results: JSON.stringify(fields.results) } : {}),
      ...(fields.bumpAttempt ? { attempts: eb('attempts', '+', 1) } : {}),
      ...(FINAL_DEPLOYMENT.includes(to) ? { finishedAt: sql<Date>`NOW()` } : {}),
      ...(fields.notBefore ? { notBefore: fields.notBefore } : {}),
    }))
    .where('id', '=', id).where('status', '=', anyText(from))
    .$if(fields.deviceId !== undefined, (query) => query.where('deviceId', '=', fields.deviceId!))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function appendProgress(db: SqlExecutor, id: string, deviceId: string, text: string): Promise<void> {
  await typed(db).updateTable('patchDeployments')
    .set((eb) => ({ progress: sql<string>`right(${eb.ref('progress')} || ${text}, ${sql.lit(PROGRESS_CHARS)})`, updatedAt: sql<Date>`NOW()` }))
    .where('id', '=', id).where('deviceId', '=', deviceId).where('status', '=', sql.lit('running'))
    .execute();
}

/** Deployments offered to this device now (the service adds the reboot policy that applies to the device). */
export async function readyFor(db: SqlExecutor, deviceId: string): Promise<Array<{ id: string; organizationId: string; patches: PatchSpec[] }>> {
  return typed(db).selectFrom('patchDeployments').select(['id', 'organizationId', 'patches'])
    .where('deviceId', '=', deviceId).where('status', '=', sql.lit('ready')).orderBy('createdAt').limit(5)
    .$narrowType<{ patches: PatchSpec[] }>()
    .execute();
}

export async function deviceIsLive(db: SqlExecutor, deviceId: string): Promise<boolean> {
  const row = await typed(db).selectFrom('devices').select(sql.lit(1).as('one')).where('id', '=', deviceId).where('decommissionedAt', 'is', null).executeTakeFirst();
  return row !== undefined;
}
