import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { migrate, openRelationalStore, type RelationalStore } from '../../stores/relational/index.ts';
import { createChdbStore } from '../../stores/analytics/chdb/chdb-store.ts';
import { migrateAnalytics, type AnalyticsStore } from '../../stores/analytics/index.ts';
import { DAY_MS, HOUR_MS, unixSec } from '../../stores/analytics/time.ts';
import { monthlyInvoice } from '../analytics/clickhouse-queries.ts';
import { archiveColdPartitions } from '../analytics/archive.ts';
import { billDay } from './billing.ts';
import { addContract, contractsInForce, listContracts } from './contracts.ts';
import { LIST_RATES, priceDay } from './rates.ts';

// One chdb session per test file (per worker); the relational side runs on each engine in turn.
const APRIL = Date.UTC(2026, 3, 1);
const NO_ID = '00000000-0000-0000-0000-000000000000';
const log = pino({ level: 'silent' });
let dir: string;
let analytics: AnalyticsStore;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ninjait-billing-'));
  analytics = createChdbStore(join(dir, 'chdb'));
  await migrateAnalytics(analytics);
}, 120_000);

afterAll(async () => {
  await analytics?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('pricing a day', () => {
  it('prices devices per month, calls and GB per unit', () => {
    // 30 devices for one day of April (30 days): 30 × $5 / 30 = $5; 2,000 calls × $0.001 = $2; 12.5 GB × $0.10 = $1.25.
    expect(priceDay({ deviceCount: 30, apiCalls: 2_000, storageGb: 12.5 }, LIST_RATES, APRIL))
      .toEqual({ deviceCost: 5, apiCost: 2, storageCost: 1.25, total: 8.25 });
    // February 2026 has 28 days: 14 devices × €2 / 28 = €1; 500 calls × €0.004 = €2; 40 GB × €0.05 = €2.
    const feb = Date.UTC(2026, 1, 10);
    const cost = priceDay({ deviceCount: 14, apiCalls: 500, storageGb: 40 }, { perDevice: 2, perApiCall: 0.004, perGb: 0.05, currency: 'EUR' }, feb);
    expect(cost.deviceCost).toBeCloseTo(1, 10);
    expect(cost.apiCost).toBeCloseTo(2, 10);
    expect(cost.storageCost).toBeCloseTo(2, 10);
    expect(cost.total).toBeCloseTo(5, 10);
  });
});

describe.each(relationalEngines())('billing on %s with chdb', (engine) => {
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let db: RelationalStore;
  let acme: string;
  let globex: string;

  beforeAll(async () => {
    database = engine === 'postgres' ? await createScratchDatabase() : null;
    db = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(dir, `pglite-${engine}`) });
    await migrate(db);
    const org = async (name: string) => (await db.query<{ id: string }>('INSERT INTO organizations (name) VALUES ($1) RETURNING id', [name])).rows[0]!.id;
    acme = await org(`Acme ${engine}`);
    globex = await org(`Globex ${engine}`);
    // Both existed before April, so billing bills them every day of it.
    await db.query("UPDATE organizations SET created_at = '2026-01-01T00:00:00Z'");
  }, 120_000);

  afterAll(async () => {
    await db?.close();
    await database?.drop();
  });

  it('keeps contract terms apart: a new term ends the running one, an overlapping later one is refused', async () => {
    const eur = { perDevice: 4, perApiCall: 0.002, perGb: 0.05, currency: 'EUR' };
    const first = await addContract(db, globex, { ...eur, startsOn: '2026-01-01', endsOn: null }, null);
    expect(first.ended).toBeNull();
    const second = await addContract(db, globex, { ...eur, startsOn: '2026-04-01', endsOn: '2026-04-30' }, null);
    expect(second.ended).toMatchObject({ id: first.contract.id, endsOn: '2026-03-31' });
    await expect(addContract(db, globex, { ...eur, startsOn: '2026-04-01', endsOn: null }, null)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await listContracts(db, globex)).map((contract) => [contract.startsOn, contract.endsOn])).toEqual([['2026-04-01', '2026-04-30'], ['2026-01-01', '2026-03-31']]);
    expect((await contractsInForce(db, '2026-04-15')).get(globex)).toMatchObject({ perDevice: 4, perApiCall: 0.002, perGb: 0.05, currency: 'EUR' });
    expect((await contractsInForce(db, '2026-05-01')).get(globex)).toBeUndefined();
    expect((await contractsInForce(db, '2026-04-15')).get(acme)).toBeUndefined();
  });

  it('invoices April 2026 by hand: people and API keys pay per call, agents do not; the contract sets the rates', { timeout: 300_000 }, async () => {
    // Device counts as the hourly ETL leaves them: Acme 3 devices on April 1-15, 5 on April 16-30; Globex 2 all month.
    const facts = [];
    for (let day = 0; day < 30; day++) {
      const hour = unixSec(APRIL + day * DAY_MS + 12 * HOUR_MS);
      facts.push({ organization_id: acme, hour, device_count: day < 15 ? 3 : 5, online_count: 1 });
      facts.push({ organization_id: globex, hour, device_count: 2, online_count: 2 });
    }
    await analytics.insert('device_count_facts', facts);
    const calls = (org: string, count: number, source: string | null, dayOfMonth: number) => Array.from({ length: count }, (_, i) => ({
      timestamp: unixSec(APRIL + (dayOfMonth - 1) * DAY_MS + (i % 86_400) * 1000), organization_id: org, endpoint: 'devices.list', method: 'query',
      status_code: 200, response_time_ms: 1, user_id: source === 'agent' || source === null ? NO_ID : acme,
      ...(source === null ? {} : { source }),
    }));
    await analytics.insert('api_calls', [
      ...calls(acme, 400, 'person', 10), ...calls(acme, 100, 'api_key', 11),
      ...calls(acme, 5_000, 'agent', 12),
      // Written before calls had a source: an agent's row (zero user, its organization) still counts as an agent's.
      ...calls(acme, 1_000, null, 13),
      ...calls(globex, 250, 'person', 20), ...calls(globex, 10_000, 'agent', 21),
    ]);
    for (let day = 0; day < 30; day++) await billDay(db, analytics, APRIL + day * DAY_MS);

    // Acme, list prices: (15 × 3 + 15 × 5) device-days × $5 / 30 days = $20.00; (400 + 100) calls × $0.001 = $0.50.
    const acmeInvoice = await monthlyInvoice(analytics, acme, new Date('2026-04-20T00:00:00Z'));
    expect(acmeInvoice.currency).toBe('USD');
    expect(acmeInvoice.deviceCost).toBeCloseTo(20, 6);
    expect(acmeInvoice.apiCost).toBeCloseTo(0.5, 6);
    expect(acmeInvoice.storageCost).toBe(0);
    expect(acmeInvoice.totalCost).toBeCloseTo(20.5, 6);
    // Globex, its April contract: 60 device-days × €4 / 30 = €8.00; 250 calls × €0.002 = €0.50.
    const globexInvoice = await monthlyInvoice(analytics, globex, new Date('2026-04-01T00:00:00Z'));
    expect(globexInvoice.currency).toBe('EUR');
    expect(globexInvoice.deviceCost).toBeCloseTo(8, 6);
    expect(globexInvoice.apiCost).toBeCloseTo(0.5, 6);
    expect(globexInvoice.totalCost).toBeCloseTo(8.5, 6);

    // Archiving April (older than 90 days now) moves its calls out of ClickHouse; the invoices do not change.
    const archived = await archiveColdPartitions(analytics, { dir: join(dir, `archive-${engine}`) }, log, { olderThanDays: 90, nowMs: Date.UTC(2026, 11, 1) });
    expect(archived.some((part) => part.table === 'api_calls' && part.partitionId === '202604')).toBe(true);
    expect(archived.some((part) => (part.table as string) === 'billing_events')).toBe(false);
    expect(Number((await analytics.query<{ n: string }>("SELECT count() AS n FROM api_calls WHERE toYYYYMM(timestamp) = 202604"))[0]!.n)).toBe(0);
    expect(await monthlyInvoice(analytics, acme, new Date('2026-04-20T00:00:00Z'))).toEqual(acmeInvoice);
    expect(await monthlyInvoice(analytics, globex, new Date('2026-04-20T00:00:00Z'))).toEqual(globexInvoice);
  });

  it('bills storage from the bytes counted at ingest, not from a raw table InfluxDB may have taken over', async () => {
    const may5 = Date.UTC(2026, 4, 5);
    const device = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
    // Two batches of one device (summed), another device, and a sample of the day after (not this day's).
    await analytics.insert('metric_usage_daily', [
      { organization_id: acme, device_id: device(1), day: '2026-05-05', samples: 1_000, bytes: 1_000_000_000 },
      { organization_id: acme, device_id: device(2), day: '2026-05-05', samples: 500, bytes: 500_000_000 },
      { organization_id: acme, device_id: device(1), day: '2026-05-06', samples: 9, bytes: 9_000_000_000 },
    ]);
    await analytics.insert('metric_usage_daily', [{ organization_id: acme, device_id: device(1), day: '2026-05-05', samples: 1_000, bytes: 1_000_000_000 }]);
    expect(Number((await analytics.query<{ n: string }>("SELECT count() AS n FROM device_metrics_raw WHERE toDate(timestamp) = '2026-05-05'"))[0]!.n)).toBe(0);
    await billDay(db, analytics, may5);
    // 1 + 0.5 + 1 GB = 2.5 GB × $0.10 = $0.25; no device counted that day, no calls.
    const invoice = await monthlyInvoice(analytics, acme, new Date('2026-05-20T00:00:00Z'));
    expect(invoice.storageCost).toBeCloseTo(0.25, 9);
    expect(invoice.totalCost).toBeCloseTo(0.25, 9);
  });
});
