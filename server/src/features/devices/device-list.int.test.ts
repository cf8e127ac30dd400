import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceListInputSchema, type DeviceListInput } from '@ninjait/shared';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { migrate, openRelationalStore, type RelationalStore } from '../../stores/relational/index.ts';
import { listDevicePage, type DeviceRow } from './device-list.ts';
import { groupDevices, summarizeGroups, totalFromGroups } from './device-counts.ts';

/** Enough rows that the planner prefers an index to a scan, as it would for a real fleet. */
const FLEET = 3_000;
const STATUSES = ['online', 'offline', 'pending'] as const;

describe.each(relationalEngines())('device list pages on %s', (engine) => {
  let db: RelationalStore;
  let drop: (() => Promise<void>) | undefined;
  let orgA: string;
  let orgB: string;
  const page = (input: DeviceListInput, org = orgA) => listDevicePage(db, org, deviceListInputSchema.parse(input));

  /** Every page of a listing, following nextCursor. */
  async function walk(input: DeviceListInput): Promise<{ rows: DeviceRow[]; pages: number; totals: number[] }> {
    const rows: DeviceRow[] = [];
    const totals: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const result = await page({ ...input, ...(cursor ? { cursor } : {}) });
      rows.push(...result.items);
      totals.push(result.total);
      cursor = result.nextCursor ?? undefined;
      pages += 1;
    } while (cursor && pages < 100);
    return { rows, pages, totals };
  }

  beforeAll(async () => {
    const scratch = engine === 'postgres' ? await createScratchDatabase() : null;
    drop = scratch?.drop;
    db = await openRelationalStore({ databaseUrl: scratch?.url });
    await migrate(db);
    const organization = async (name: string) =>
      (await db.query<{ id: string }>('INSERT INTO organizations (name) VALUES ($1) RETURNING id', [`list-${name}`])).rows[0]!.id;
    orgA = await organization('A');
    orgB = await organization('B');
    // Mixed-case names with ties on lower(name), some never seen (NULL last_seen), equal timestamps, two OS types.
    await db.query(
      `INSERT INTO devices (name, organization_id, status, os_type, last_seen)
       SELECT CASE WHEN g % 7 = 0 THEN 'PC-' ELSE 'pc-' END || lpad((g / 2)::text, 5, '0'), $1,
         (ARRAY['online', 'offline', 'pending'])[1 + g % 3], CASE WHEN g % 4 = 0 THEN 'windows' ELSE 'linux' END,
         CASE WHEN g % 10 = 0 THEN NULL ELSE timestamptz '2026-01-01' + (g / 3) * interval '1 second' + interval '0.000123 second' END
       FROM generate_series(1, $2::int) g`,
      [orgA, FLEET],
    );
    await db.query(`INSERT INTO devices (name, organization_id, status, os_type) VALUES ('pc-foreign', $1, 'online', 'linux'), ('50% done_x', $2, 'online', 'linux')`, [orgB, orgA]);
    // 'pc-00001' is two devices; one is retired.
    await db.query(`UPDATE devices SET decommissioned_at = NOW(), status = 'decommissioned'
      WHERE id = (SELECT id FROM devices WHERE name = 'pc-00001' AND organization_id = $1 LIMIT 1)`, [orgA]);
    await db.query('ANALYZE devices');
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await drop?.();
  });

  const all = async () => (await db.query<{ id: string; name: string; status: string; lastSeen: Date | null }>(
    `SELECT id, name, status, last_seen AS "lastSeen" FROM devices WHERE organization_id = $1 AND decommissioned_at IS NULL`, [orgA])).rows;
  const byName = (a: { name: string; id: string }, b: { name: string; id: string }) => {
    const [x, y] = [a.name.toLowerCase(), b.name.toLowerCase()];
    return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };

  it.each([
    { sort: 'name', dir: 'asc' }, { sort: 'name', dir: 'desc' }, { sort: 'status', dir: 'asc' }, { sort: 'lastSeen', dir: 'desc' },
  ] as const)('walks every device once in $sort $dir order, page after page', async ({ sort, dir }) => {
    const devices = await all();
    const seen = (d: { lastSeen: Date | string | null }) => (d.lastSeen ? new Date(d.lastSeen).getTime() : 0);
    const expected = [...devices].sort((a, b) => {
      const order = sort === 'name' ? byName(a, b)
        : sort === 'status' ? (a.status < b.status ? -1 : a.status > b.status ? 1 : byName(a, b))
          : seen(a) - seen(b) || (a.id < b.id ? -1 : 1);
      return dir === 'desc' ? -order : order;
    }).map((d) => d.id);
    const { rows, pages, totals } = await walk({ sort, dir, limit: 500 });
    expect(rows.map((row) => row.id)).toEqual(expected);
    expect(pages).toBe(Math.ceil(devices.length / 500));
    expect(new Set(totals)).toEqual(new Set([devices.length]));
  });

  it('filters by status, OS and a name part (any case, % and _ taken literally), counting the matches', async () => {
    const devices = await all();
    const online = await walk({ status: 'online', osType: 'windows', limit: 200 });
    expect(online.rows.every((row) => row.status === 'online' && row.osType === 'windows')).toBe(true);
    expect(online.rows.length).toBe(online.totals[0]);
    expect(online.rows.length).toBeGreaterThan(100);
    const search = await page({ search: 'PC-0012' });
    expect(search.items.map((row) => row.name)).toEqual(devices.filter((d) => d.name.toLowerCase().includes('pc-0012')).sort(byName).map((d) => d.name));
    expect(search.total).toBe(search.items.length);
    expect((await page({ search: '50% done_' })).items.map((row) => row.name)).toEqual(['50% done_x']);
    expect((await page({ search: '0% d%' })).total).toBe(0);
  });

  it('keeps organizations and decommissioned devices out', async () => {
    const foreign = await page({ search: 'foreign' });
    expect(foreign).toEqual({ items: [], total: 0, nextCursor: null });
    expect((await page({ search: 'pc-00001' })).items.map((row) => row.name)).toEqual(['pc-00001']);
    expect((await page({}, orgB)).items.map((row) => row.name)).toEqual(['pc-foreign']);
  });

  it('refuses a cursor from another sort or order, or one that was tampered with', async () => {
    const { nextCursor } = await page({ sort: 'lastSeen', limit: 10 });
    expect(nextCursor).toBeTruthy();
    await expect(page({ sort: 'name', cursor: nextCursor! })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(page({ sort: 'lastSeen', dir: 'desc', cursor: nextCursor! })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const forged = (value: unknown) => Buffer.from(JSON.stringify({ s: 'lastSeen', d: 'asc', k: [value], id: '00000000-0000-4000-8000-000000000000' })).toString('base64url');
    expect((await page({ sort: 'lastSeen', cursor: forged(0), limit: 1 })).items).toHaveLength(1);
    for (const bad of [forged('2026-13-45'), forged(-1), forged(1e300), 'not base64 json', Buffer.from('[1]').toString('base64url')]) {
      await expect(page({ sort: 'lastSeen', cursor: bad })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
  });

  it.each([
    [{ sort: 'name' }, 'devices_org_name_idx'],
    [{ sort: 'name', dir: 'desc' }, 'devices_org_name_idx'],
    [{ sort: 'status' }, 'devices_org_status_name_idx'],
    [{ status: 'pending' }, 'devices_org_status_name_idx'],
    [{ sort: 'lastSeen', dir: 'desc' }, 'devices_org_last_seen_idx'],
  ] as const)('reads %o through %s, not a scan of the fleet', async (input, index) => {
    const plans: string[] = [];
    const spy = { ...db, query: async (sql: string, params?: readonly unknown[]) => {
      // The page statement only: the tag names read beside it are a few rows sorted in memory.
      if (/ORDER BY[\s\S]*LIMIT/i.test(sql)) plans.push(...(await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).rows.map((r) => r['QUERY PLAN']));
      return db.query(sql, params);
    } } as RelationalStore;
    const first = await listDevicePage(spy, orgA, deviceListInputSchema.parse(input));
    await listDevicePage(spy, orgA, deviceListInputSchema.parse({ ...input, cursor: first.nextCursor }));
    expect(plans.filter((line) => line.includes(`using ${index}`))).toHaveLength(2);
    // The page comes in index order; the count beside it may scan, it reads every match anyway.
    expect(plans.join('\n')).not.toMatch(/Sort Key/);
  });

  it('counts devices per status and lists the OS types present; the groups give any status and OS total', async () => {
    const devices = await all();
    const groups = await groupDevices(db, orgA);
    const counts = summarizeGroups(groups);
    expect(counts.total).toBe(devices.length);
    for (const status of STATUSES) expect(counts.byStatus[status]).toBe(devices.filter((d) => d.status === status).length);
    expect(counts.osTypes).toEqual(['linux', 'windows']);
    for (const filter of [{}, { status: 'online' }, { osType: 'windows' }, { status: 'pending', osType: 'linux' }] as const) {
      expect(totalFromGroups(groups, filter)).toBe((await page({ ...filter, limit: 1 })).total);
    }
    expect(totalFromGroups(groups, { search: 'pc' })).toBeUndefined();
    // A known total is taken as given: the caller's cached count.
    expect((await listDevicePage(db, orgA, deviceListInputSchema.parse({ limit: 1 }), 42)).total).toBe(42);
  });
});
