import type { InventoryReport, PendingUpdate, ServiceItem, SoftwareItem } from '@ninjait/shared';
import { sql } from 'kysely';
import { anyText, typed, type SqlExecutor } from '../../stores/relational/index.ts';

/** One change for the history table. */
export interface SoftwareChange {
  kind: 'software' | 'service' | 'update';
  change: 'added' | 'removed' | 'changed';
  key: string;
  name: string;
  version: string;
}

const TABLES = { software: 'deviceSoftware', service: 'deviceServices', update: 'deviceUpdates' } as const;
const VERSION_COLUMN = { software: 'version', service: 'state', update: 'availableVersion' } as const;

/** The hash of the snapshot the server holds for a device, locked for this transaction. */
export async function lockInventoryState(tx: SqlExecutor, deviceId: string): Promise<string | null> {
  const row = await typed(tx).selectFrom('deviceInventoryState').select('snapshotHash').where('deviceId', '=', deviceId).forUpdate().executeTakeFirst();
  return row?.snapshotHash ?? null;
}

async function previous(tx: SqlExecutor, kind: SoftwareChange['kind'], deviceId: string, keys: string[] | null) {
  const rows = await typed(tx).selectFrom(TABLES[kind]).select((eb) => ['key', 'name', eb.ref(VERSION_COLUMN[kind]).as('version')])
    .where('deviceId', '=', deviceId)
    .$if(keys !== null, (query) => query.where('key', '=', anyText(keys!)))
    .execute();
  return new Map(rows.map((row) => [row.key, row]));
}

/**
 * Applies one section of a report (everything first removed on a full report) and says what
 * changed, comparing against the rows it replaces.
 */
async function applySection<T extends { key: string; name: string }>(
  tx: SqlExecutor, kind: SoftwareChange['kind'], deviceId: string, full: boolean,
  section: { upsert: T[]; remove: string[] }, version: (item: T) => string, upsert: (items: T[]) => Promise<void>,
): Promise<SoftwareChange[]> {
  const before = await previous(tx, kind, deviceId, full ? null : [...section.upsert.map((item) => item.key), ...section.remove]);
  const changes: SoftwareChange[] = [];
  // A set, not a search per key: a full report of 1,500 packages over 1,500 stored ones was 2.25 million comparisons.
  const kept = full ? new Set(section.upsert.map((item) => item.key)) : null;
  const removed = kept ? [...before.keys()].filter((key) => !kept.has(key)) : section.remove.filter((key) => before.has(key));
  if (full || section.remove.length > 0) {
    await typed(tx).deleteFrom(TABLES[kind]).where('deviceId', '=', deviceId)
      .$if(!full, (query) => query.where('key', '=', anyText(section.remove)))
      .execute();
  }
  for (const key of removed) changes.push({ kind, change: 'removed', key, name: before.get(key)!.name, version: before.get(key)!.version });
  for (const item of section.upsert) {
    const old = before.get(item.key);
    if (!old) changes.push({ kind, change: 'added', key: item.key, name: item.name, version: version(item) });
    else if (old.version !== version(item)) changes.push({ kind, change: 'changed', key: item.key, name: item.name, version: version(item) });
  }
  if (section.upsert.length > 0) await upsert(section.upsert);
  return changes;
}

/** Writes a report into the device's current state; the caller checked its base. */
export async function applyInventoryReport(tx: SqlExecutor, device: { deviceId: string; organizationId: string }, report: InventoryReport) {
  const { deviceId, organizationId } = device;
  const full = report.baseHash === null;
  const software = await applySection(tx, 'software', deviceId, full, report.software, (item: SoftwareItem) => item.version, async (items) => {
    await typed(tx).insertInto('deviceSoftware')
      .columns(['deviceId', 'organizationId', 'key', 'name', 'version', 'arch', 'publisher', 'source', 'installedAt'])
      // One statement for the whole section: the rows travel as one JSON parameter.
      .expression(sql`SELECT ${deviceId}, ${organizationId}, r.key, r.name, r.version, r.arch, r.publisher, r.source, to_timestamp(r."installedAtMs" / 1000.0)
        FROM jsonb_to_recordset(${JSON.stringify(items)}::jsonb) AS r(key text, name text, version text, arch text, publisher text, source text, "installedAtMs" double precision)`)
      .onConflict((conflict) => conflict.columns(['deviceId', 'key']).doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'), version: eb.ref('excluded.version'), arch: eb.ref('excluded.arch'),
        publisher: eb.ref('excluded.publisher'), source: eb.ref('excluded.source'), installedAt: eb.ref('excluded.installedAt'),
      })))
      .execute();
  });
  const services = await applySection(tx, 'service', deviceId, full, report.services, (item: ServiceItem) => item.state, async (items) => {
    await typed(tx).insertInto('deviceServices')
      .columns(['deviceId', 'key', 'name', 'displayName', 'state', 'startMode'])
      .expression(sql`SELECT ${deviceId}, r.key, r.name, r."displayName", r.state, r."startMode"
        FROM jsonb_to_recordset(${JSON.stringify(items)}::jsonb) AS r(key text, name text, "displayName" text, state text, "startMode" text)`)
      .onConflict((conflict) => conflict.columns(['deviceId', 'key']).doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'), displayName: eb.ref('excluded.displayName'), state: eb.ref('excluded.state'), startMode: eb.ref('excluded.startMode'),
      })))
      .execute();
  });
  // An update seen before keeps its first-seen time across full reports: its age is what compliance measures.
  const seen = full ? await typed(tx).selectFrom('deviceUpdates').select(['key', 'firstSeenAt as at']).where('deviceId', '=', deviceId).execute() : [];
  const updates = await applySection(tx, 'update', deviceId, full, report.updates, (item: PendingUpdate) => item.availableVersion, async (items) => {
    await typed(tx).insertInto('deviceUpdates')
      .columns(['deviceId', 'organizationId', 'key', 'name', 'currentVersion', 'availableVersion', 'source', 'classification', 'severity', 'detail', 'firstSeenAt'])
      .expression(sql`SELECT ${deviceId}, ${organizationId}, r.key, r.name, r."currentVersion", r."availableVersion", r.source, r.classification, r.severity, r.detail,
          COALESCE((SELECT s.at FROM jsonb_to_recordset(${JSON.stringify(seen)}::jsonb) AS s(key text, at timestamptz) WHERE s.key = r.key), NOW())
        FROM jsonb_to_recordset(${JSON.stringify(items)}::jsonb) AS r(key text, name text, "currentVersion" text, "availableVersion" text, source text,
          classification text, severity text, detail text)`)
      .onConflict((conflict) => conflict.columns(['deviceId', 'key']).doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'), currentVersion: eb.ref('excluded.currentVersion'), availableVersion: eb.ref('excluded.availableVersion'),
        source: eb.ref('excluded.source'), classification: eb.ref('excluded.classification'), severity: eb.ref('excluded.severity'),
        detail: eb.ref('excluded.detail'),
      })))
      .execute();
  });
  await typed(tx).insertInto('deviceInventoryState')
    .values({
      deviceId, snapshotHash: report.hash, rebootPending: report.rebootPending,
      lastPatchedAt: sql<Date>`to_timestamp(${report.lastPatchedAtMs}::double precision / 1000.0)`, reportedAt: sql<Date>`NOW()`,
    })
    .onConflict((conflict) => conflict.column('deviceId').doUpdateSet((eb) => ({
      snapshotHash: eb.ref('excluded.snapshotHash'), rebootPending: eb.ref('excluded.rebootPending'),
      lastPatchedAt: eb.ref('excluded.lastPatchedAt'), reportedAt: sql<Date>`NOW()`,
    })))
    .execute();
  return [...software, ...services, ...updates];
}

/** Case-insensitive "contains": strpos, not LIKE, so a search's % and _ are plain characters. */
const containsText = (column: string, search: string) => sql<boolean>`strpos(lower(${sql.ref(column)}), lower(${search})) > 0`;

export async function listSoftware(db: SqlExecutor, organizationId: string, deviceId: string, page: { limit: number; offset: number; search: string | null }) {
  return typed(db).selectFrom('deviceSoftware as s').select(['s.name', 's.version', 's.arch', 's.publisher', 's.source', 's.installedAt'])
    .where('s.deviceId', '=', deviceId).where('s.organizationId', '=', organizationId)
    .$if(page.search !== null, (query) => query.where(containsText('s.name', page.search!)))
    .orderBy((eb) => eb.fn('lower', ['s.name'])).orderBy('s.key').limit(page.limit).offset(page.offset)
    .execute();
}

export async function listServices(db: SqlExecutor, organizationId: string, deviceId: string, page: { limit: number; offset: number }) {
  return typed(db).selectFrom('deviceServices as v')
    .innerJoin('devices as d', (join) => join.onRef('d.id', '=', 'v.deviceId').on('d.organizationId', '=', organizationId))
    .select(['v.name', 'v.displayName', 'v.state', 'v.startMode'])
    .where('v.deviceId', '=', deviceId)
    .orderBy((eb) => eb.fn('lower', ['v.name'])).limit(page.limit).offset(page.offset)
    .execute();
}

export interface UpdateRow {
  deviceId: string;
  key: string;
  name: string;
  currentVersion: string;
  availableVersion: string;
  source: string;
  classification: string;
  severity: string;
  detail: string;
  firstSeenAt: Date;
}

/** Pending updates of one device, or of the organization (deviceId null), optionally only these keys. */
export async function listUpdates(db: SqlExecutor, organizationId: string, deviceId: string | null, keys: string[] | null = null, limit = 10_000): Promise<UpdateRow[]> {
  return typed(db).selectFrom('deviceUpdates as u')
    .select(['u.deviceId', 'u.key', 'u.name', 'u.currentVersion', 'u.availableVersion', 'u.source', 'u.classification', 'u.severity', 'u.detail', 'u.firstSeenAt'])
    .where('u.organizationId', '=', organizationId)
    .$if(deviceId !== null, (query) => query.where('u.deviceId', '=', deviceId!))
    .$if(keys !== null, (query) => query.where('u.key', '=', anyText(keys!)))
    .orderBy('u.deviceId').orderBy((eb) => eb.fn('lower', ['u.name'])).limit(limit)
    .execute();
}

export async function inventoryState(db: SqlExecutor, organizationId: string, deviceId: string) {
  const row = await typed(db).selectFrom('deviceInventoryState as s')
    .innerJoin('devices as d', (join) => join.onRef('d.id', '=', 's.deviceId').on('d.organizationId', '=', organizationId))
    .select(['s.rebootPending', 's.lastPatchedAt', 's.reportedAt'])
    .where('s.deviceId', '=', deviceId)
    .executeTakeFirst();
  return row ?? null;
}

/** Every installed copy of a package in the organization (the name index narrows; versions compare in code). */
export async function findPackage(db: SqlExecutor, organizationId: string, name: string) {
  return typed(db).selectFrom('deviceSoftware as s').innerJoin('devices as d', 'd.id', 's.deviceId')
    .select(['s.deviceId', 'd.name as deviceName', 's.version', 's.source'])
    .where('s.organizationId', '=', organizationId)
    .where((eb) => eb(eb.fn('lower', ['s.name']), '=', eb.fn('lower', [eb.val(name)])))
    .where('d.decommissionedAt', 'is', null)
    .execute();
}

/** Update classifications that count as security updates for compliance. */
const SECURITY_CLASSES = [sql.lit('security'), sql.lit('critical')];

/** Per device of the organization: pending approved-class updates, and the oldest security/critical one. */
export async function complianceRows(db: SqlExecutor, organizationId: string) {
  return typed(db).selectFrom('devices as d')
    .leftJoin('deviceInventoryState as s', 's.deviceId', 'd.id')
    .leftJoin('deviceUpdates as u', 'u.deviceId', 'd.id')
    .select((eb) => [
      'd.id as deviceId', 'd.name as deviceName', eb('s.deviceId', 'is not', null).as('reported'),
      eb.cast<number>(eb.fn.count('u.key'), 'integer').as('pending'),
      eb.cast<number>(eb.fn.count('u.key').filterWhere('u.classification', 'in', SECURITY_CLASSES), 'integer').as('security'),
      eb.fn.min('u.firstSeenAt').filterWhere('u.classification', 'in', SECURITY_CLASSES).as('oldestSecurity'),
      eb.fn.coalesce('s.rebootPending', sql.lit(false)).as('rebootPending'),
    ])
    .where('d.organizationId', '=', organizationId).where('d.decommissionedAt', 'is', null)
    .groupBy(['d.id', 'd.name', 's.deviceId', 's.rebootPending']).orderBy('d.name')
    .$narrowType<{ reported: boolean }>()
    .execute();
}

export async function deviceInOrganization(db: SqlExecutor, organizationId: string, deviceId: string): Promise<boolean> {
  const row = await typed(db).selectFrom('devices').select(sql.lit(1).as('one'))
    .where('id', '=', deviceId).where('organizationId', '=', organizationId).executeTakeFirst();
  return row !== undefined;
}

export async function deviceOrganization(db: SqlExecutor, deviceId: string): Promise<string | null> {
  const row = await typed(db).selectFrom('devices').select('organizationId').where('id', '=', deviceId).executeTakeFirst();
  return row?.organizationId ?? null;
}
