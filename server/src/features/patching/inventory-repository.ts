import type { InventoryReport, PendingUpdate, ServiceItem, SoftwareItem } from '@ninjait/shared';
import type { SqlExecutor } from '../../stores/relational/index.ts';

/** One change for the history table. */
export interface SoftwareChange {
  kind: 'software' | 'service' | 'update';
  change: 'added' | 'removed' | 'changed';
  key: string;
  name: string;
  version: string;
}

const TABLES = { software: 'device_software', service: 'device_services', update: 'device_updates' } as const;
const VERSION_COLUMN = { software: 'version', service: 'state', update: 'available_version' } as const;

/** The hash of the snapshot the server holds for a device, locked for this transaction. */
export async function lockInventoryState(tx: SqlExecutor, deviceId: string): Promise<string | null> {
  const { rows } = await tx.query<{ hash: string }>(
    'SELECT snapshot_hash AS hash FROM device_inventory_state WHERE device_id = $1 FOR UPDATE', [deviceId]);
  return rows[0]?.hash ?? null;
}

async function previous(tx: SqlExecutor, kind: SoftwareChange['kind'], deviceId: string, keys: string[] | null) {
  const { rows } = await tx.query<{ key: string; name: string; version: string }>(
    `SELECT key, name, ${VERSION_COLUMN[kind]} AS version FROM ${TABLES[kind]} WHERE device_id = $1 AND ($2::text[] IS NULL OR key = ANY($2::text[]))`,
    [deviceId, keys]);
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
  if (full) await tx.query(`DELETE FROM ${TABLES[kind]} WHERE device_id = $1`, [deviceId]);
  else if (section.remove.length > 0) await tx.query(`DELETE FROM ${TABLES[kind]} WHERE device_id = $1 AND key = ANY($2::text[])`, [deviceId, section.remove]);
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
  const software = await applySection(tx, 'software', deviceId, full, report.software, (item: SoftwareItem) => item.version, (items) => tx.query(
    `INSERT INTO device_software (device_id, organization_id, key, name, version, arch, publisher, source, installed_at)
     SELECT $1, $2, r.key, r.name, r.version, r.arch, r.publisher, r.source, to_timestamp(r."installedAtMs" / 1000.0)
     FROM jsonb_to_recordset($3::jsonb) AS r(key text, name text, version text, arch text, publisher text, source text, "installedAtMs" double precision)
     ON CONFLICT (device_id, key) DO UPDATE SET name = EXCLUDED.name, version = EXCLUDED.version, arch = EXCLUDED.arch,
       publisher = EXCLUDED.publisher, source = EXCLUDED.source, installed_at = EXCLUDED.installed_at`,
    [deviceId, organizationId, JSON.stringify(items)]).then(() => undefined));
  const services = await applySection(tx, 'service', deviceId, full, report.services, (item: ServiceItem) => item.state, (items) => tx.query(
    `INSERT INTO device_services (device_id, key, name, display_name, state, start_mode)
     SELECT $1, r.key, r.name, r."displayName", r.state, r."startMode"
     FROM jsonb_to_recordset($2::jsonb) AS r(key text, name text, "displayName" text, state text, "startMode" text)
     ON CONFLICT (device_id, key) DO UPDATE SET name = EXCLUDED.name, display_name = EXCLUDED.display_name,
       state = EXCLUDED.state, start_mode = EXCLUDED.start_mode`,
    [deviceId, JSON.stringify(items)]).then(() => undefined));
  // An update seen before keeps its first-seen time across full reports: its age is what compliance measures.
  const seen = full ? await tx.query<{ key: string; at: Date }>('SELECT key, first_seen_at AS at FROM device_updates WHERE device_id = $1', [deviceId]) : null;
  const updates = await applySection(tx, 'update', deviceId, full, report.updates, (item: PendingUpdate) => item.availableVersion, (items) => tx.query(
    `INSERT INTO device_updates (device_id, organization_id, key, name, current_version, available_version, source, classification, severity, detail, first_seen_at)
     SELECT $1, $2, r.key, r.name, r."currentVersion", r."availableVersion", r.source, r.classification, r.severity, r.detail,
       COALESCE((SELECT s.at FROM jsonb_to_recordset($4::jsonb) AS s(key text, at timestamptz) WHERE s.key = r.key), NOW())
     FROM jsonb_to_recordset($3::jsonb) AS r(key text, name text, "currentVersion" text, "availableVersion" text, source text,
       classification text, severity text, detail text)
     ON CONFLICT (device_id, key) DO UPDATE SET name = EXCLUDED.name, current_version = EXCLUDED.current_version,
       available_version = EXCLUDED.available_version, source = EXCLUDED.source, classification = EXCLUDED.classification,
       severity = EXCLUDED.severity, detail = EXCLUDED.detail`,
    [deviceId, organizationId, JSON.stringify(items), JSON.stringify(seen?.rows ?? [])]).then(() => undefined));
  await tx.query(
    `INSERT INTO device_inventory_state (device_id, snapshot_hash, reboot_pending, last_patched_at, reported_at)
     VALUES ($1, $2, $3, to_timestamp($4::double precision / 1000.0), NOW())
     ON CONFLICT (device_id) DO UPDATE SET snapshot_hash = EXCLUDED.snapshot_hash, reboot_pending = EXCLUDED.reboot_pending,
       last_patched_at = EXCLUDED.last_patched_at, reported_at = NOW()`,
    [deviceId, report.hash, report.rebootPending, report.lastPatchedAtMs]);
  return [...software, ...services, ...updates];
}

const PAGE = 'LIMIT $3 OFFSET $4';

export async function listSoftware(db: SqlExecutor, organizationId: string, deviceId: string, page: { limit: number; offset: number; search: string | null }) {
  const { rows } = await db.query<{ name: string; version: string; arch: string; publisher: string; source: string; installedAt: Date | null }>(
    `SELECT s.name, s.version, s.arch, s.publisher, s.source, s.installed_at AS "installedAt" FROM device_software s
     WHERE s.device_id = $1 AND s.organization_id = $2 AND ($5::text IS NULL OR strpos(lower(s.name), lower($5)) > 0)
     ORDER BY lower(s.name), s.key ${PAGE}`,
    [deviceId, organizationId, page.limit, page.offset, page.search]);
  return rows;
}

export async function listServices(db: SqlExecutor, organizationId: string, deviceId: string, page: { limit: number; offset: number }) {
  const { rows } = await db.query<{ name: string; displayName: string; state: string; startMode: string }>(
    `SELECT v.name, v.display_name AS "displayName", v.state, v.start_mode AS "startMode" FROM device_services v
     JOIN devices d ON d.id = v.device_id AND d.organization_id = $2 WHERE v.device_id = $1 ORDER BY lower(v.name) ${PAGE}`,
    [deviceId, organizationId, page.limit, page.offset]);
  return rows;
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
const UPDATE_COLUMNS = `u.device_id AS "deviceId", u.key, u.name, u.current_version AS "currentVersion", u.available_version AS "availableVersion",
  u.source, u.classification, u.severity, u.detail, u.first_seen_at AS "firstSeenAt"`;

/** Pending updates of one device, or of the organization (deviceId null), optionally only these keys. */
export async function listUpdates(db: SqlExecutor, organizationId: string, deviceId: string | null, keys: string[] | null = null, limit = 10_000) {
  const { rows } = await db.query<UpdateRow>(
    `SELECT ${UPDATE_COLUMNS} FROM device_updates u WHERE u.organization_id = $1 AND ($2::uuid IS NULL OR u.device_id = $2)
       AND ($3::text[] IS NULL OR u.key = ANY($3::text[])) ORDER BY u.device_id, lower(u.name) LIMIT $4`,
    [organizationId, deviceId, keys, limit]);
  return rows;
}

export async function inventoryState(db: SqlExecutor, organizationId: string, deviceId: string) {
  const { rows } = await db.query<{ rebootPending: boolean; lastPatchedAt: Date | null; reportedAt: Date }>(
    `SELECT s.reboot_pending AS "rebootPending", s.last_patched_at AS "lastPatchedAt", s.reported_at AS "reportedAt"
     FROM device_inventory_state s JOIN devices d ON d.id = s.device_id AND d.organization_id = $2 WHERE s.device_id = $1`,
    [deviceId, organizationId]);
  return rows[0] ?? null;
}

/** Every installed copy of a package in the organization (the name index narrows; versions compare in code). */
export async function findPackage(db: SqlExecutor, organizationId: string, name: string) {
  const { rows } = await db.query<{ deviceId: string; deviceName: string; version: string; source: string }>(
    `SELECT s.device_id AS "deviceId", d.name AS "deviceName", s.version, s.source FROM device_software s
     JOIN devices d ON d.id = s.device_id WHERE s.organization_id = $1 AND lower(s.name) = lower($2) AND d.decommissioned_at IS NULL`,
    [organizationId, name]);
  return rows;
}

/** Per device of the organization: pending approved-class updates, and the oldest security/critical one. */
export async function complianceRows(db: SqlExecutor, organizationId: string) {
  const { rows } = await db.query<{ deviceId: string; deviceName: string; reported: boolean; pending: number; security: number; oldestSecurity: Date | null; rebootPending: boolean }>(
    `SELECT d.id AS "deviceId", d.name AS "deviceName", s.device_id IS NOT NULL AS reported,
       COUNT(u.key)::int AS pending,
       COUNT(u.key) FILTER (WHERE u.classification IN ('security', 'critical'))::int AS security,
       MIN(u.first_seen_at) FILTER (WHERE u.classification IN ('security', 'critical')) AS "oldestSecurity",
       COALESCE(s.reboot_pending, FALSE) AS "rebootPending"
     FROM devices d LEFT JOIN device_inventory_state s ON s.device_id = d.id
     LEFT JOIN device_updates u ON u.device_id = d.id
     WHERE d.organization_id = $1 AND d.decommissioned_at IS NULL
     GROUP BY d.id, d.name, s.device_id, s.reboot_pending ORDER BY d.name`,
    [organizationId]);
  return rows;
}

export async function deviceInOrganization(db: SqlExecutor, organizationId: string, deviceId: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM devices WHERE id = $1 AND organization_id = $2', [deviceId, organizationId]);
  return rows.length > 0;
}

export async function deviceOrganization(db: SqlExecutor, deviceId: string): Promise<string | null> {
  const { rows } = await db.query<{ organizationId: string }>('SELECT organization_id AS "organizationId" FROM devices WHERE id = $1', [deviceId]);
  return rows[0]?.organizationId ?? null;
}
