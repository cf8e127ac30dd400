import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyticsMigrations, migrateAnalytics, type AnalyticsStore } from '@ninjait/server/stores/analytics';
import { archiveColdPartitions, type ArchiveTarget } from '@ninjait/server/analytics/archive';
import { apiUsageForMonth, deviceCpu, deviceStatusCounts, monthlyInvoice, technicianStats } from '@ninjait/server/analytics/queries';
import { S3RVER_CREDENTIALS, startLocalS3, type LocalS3 } from '../support/s3-server.ts';
import { openClickhouseTarget, type ClickhouseTarget } from './clickhouse-target.ts';
import { SEED_CLICKHOUSE_QUERIES } from './seed-queries.ts';

/**
 * The analytics schema, the strategy's five queries verbatim, our parameterised versions and the
 * archive to S3, through `@clickhouse/client` against a ClickHouse server: the one at
 * CLICKHOUSE_URL (a modern clickhouse-server in .github/workflows/engines.yml), else ClickHouse
 * 26.x (chdb) behind its HTTP interface in a process of its own. The archive goes to S3_URL
 * (MinIO in the workflow; ClickHouse itself must reach it), else to an S3 server from npm.
 */
const { S3_URL, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } = process.env;
if (!S3_URL) console.info('S3_URL is not set: the archive goes to an S3 server from npm (@20minutes/s3rver)');

const run = randomBytes(4).toString('hex');
const ORG1 = '11111111-1111-4111-8111-111111111111';
const ORG2 = '22222222-2222-4222-8222-222222222222';
const DEV_A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const DEV_B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const TECH = '33333333-3333-4333-8333-333333333333';
const TICKET = '55555555-5555-4555-8555-555555555555';
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const log = pino({ level: 'silent' });

describe('analytics on a ClickHouse server over HTTP', () => {
  let dir: string;
  let target: ClickhouseTarget;
  let s3: LocalS3 | null = null;
  let store: AnalyticsStore;
  let now: number;
  const unix = (ms: number) => Math.floor(ms / 1000);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-engines-ch-'));
    target = await openClickhouseTarget(dir);
    console.info(`analytics under test: ${target.label}`);
    store = target.store;
    if (!S3_URL) s3 = await startLocalS3();
    // The server's clock decides now(): the verbatim queries' windows are relative to it.
    now = Number((await store.query<{ ms: string }>('SELECT toUnixTimestamp64Milli(now64(3)) AS ms'))[0]!.ms);
  }, 120_000);

  afterAll(async () => {
    await target?.close();
    await s3?.stop();
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('applies the migrations once: a second run applies nothing', async () => {
    // Every migration we ship, in order, then none.
    expect(await migrateAnalytics(store)).toEqual(analyticsMigrations.map((migration) => migration.version));
    expect(await migrateAnalytics(store)).toEqual([]);
  });

  it('answers the strategy\'s five queries as written, and our parameterised versions per organization', async () => {
    const at = (ms: number) => unix(now - ms);
    const metric = (device: string, ago: number, avg: number, max: number) =>
      ({ device_id: device, timestamp: at(ago), cpu_avg: avg, cpu_max: max, memory_avg: 1, memory_max: 1, disk_usage: 1, network_in: 1, network_out: 1 });
    await store.insert('device_metrics_hourly', [metric(DEV_A, 2 * HOUR_MS, 10, 50), metric(DEV_A, 3 * DAY_MS, 20, 70), metric(DEV_A, 40 * DAY_MS, 90, 99), metric(DEV_B, HOUR_MS, 30, 40)]);
    const event = (type: string, ago: number, duration: number, breached: number) =>
      ({ ticket_id: TICKET, event_type: type, timestamp: at(ago), duration_seconds: duration, sla_breached: breached, organization_id: ORG1, technician_id: TECH });
    await store.insert('ticket_events', [event('created', DAY_MS, 0, 0), event('closed', DAY_MS, 3_600, 0), event('closed', 2 * DAY_MS, 7_200, 1), event('closed', 10 * DAY_MS, 99_999, 1)]);
    // "This month" on the server's clock: one second ago is this month unless the month began this very second.
    const call = (status: number, ms: number, org = ORG1) =>
      ({ timestamp: at(1_000), organization_id: org, endpoint: 'devices.list', method: 'query', status_code: status, response_time_ms: ms, user_id: TECH });
    await store.insert('api_calls', [call(200, 100), call(200, 200), call(503, 300), call(200, 50, ORG2)]);
    const today = new Date(now - 1_000).toISOString().slice(0, 10);
    await store.insert('billing_events', [
      { organization_id: ORG1, event_date: today, device_count: 3, api_calls: 1_000, storage_gb: 2, backup_gb: 0, cost_usd: 16.2 },
      { organization_id: ORG2, event_date: today, device_count: 1, api_calls: 0, storage_gb: 0, backup_gb: 0, cost_usd: 5 },
    ]);
    const beat = (org: string, device: string, status: string, ago: number) => ({ organization_id: org, device_id: device, status, timestamp: at(ago) });
    await store.insert('device_heartbeats', [beat(ORG1, DEV_A, 'online', HOUR_MS), beat(ORG1, DEV_A, 'offline', 60_000), beat(ORG1, DEV_B, 'online', HOUR_MS), beat(ORG2, DEV_A, 'online', HOUR_MS)]);

    const q = SEED_CLICKHOUSE_QUERIES;
    const cpu = await store.query<{ device_id: string; avg_cpu: number; peak_cpu: number }>(q.deviceCpu);
    expect(cpu.map((row) => [row.device_id, Number(row.avg_cpu), Number(row.peak_cpu)])).toEqual([[DEV_A, 15, 70], [DEV_B, 30, 40]]);
    const techs = await store.query<{ technician_id: string; tickets_closed: string; avg_hours: number; sla_breaches: string }>(q.technicianStats);
    expect(techs.map((row) => [row.technician_id, Number(row.tickets_closed), Number(row.avg_hours), Number(row.sla_breaches)])).toEqual([[TECH, 2, 1.5, 1]]);
    const usage = await store.query<{ organization_id: string; total_calls: string; avg_response_time: number; error_count: string }>(q.apiUsage);
    expect(Object.fromEntries(usage.map((row) => [row.organization_id, [Number(row.total_calls), Number(row.avg_response_time), Number(row.error_count)]])))
      .toEqual({ [ORG1]: [3, 200, 1], [ORG2]: [1, 50, 0] });
    const invoice = await store.query<{ organization_id: string; device_cost: string; api_cost: number; storage_cost: number; total_cost: number }>(q.monthlyInvoice);
    const mine = invoice.find((row) => row.organization_id === ORG1)!;
    expect([Number(mine.device_cost), Number(mine.api_cost), Number(mine.storage_cost), Number(mine.total_cost)].map((n) => Math.round(n * 1_000) / 1_000)).toEqual([15, 1, 0.2, 16.2]);
    const statuses = await store.query<{ organization_id: string; status: string; total_devices: string }>(q.deviceStatus);
    expect(Object.fromEntries(statuses.map((row) => [`${row.organization_id}/${row.status}`, Number(row.total_devices)])))
      .toEqual({ [`${ORG1}/offline`]: 1, [`${ORG1}/online`]: 1, [`${ORG2}/online`]: 1 });

    // The same answers through the product's queries: query parameters bound by the server, one organization at a time.
    expect(await deviceCpu(store, [DEV_A])).toEqual([{ deviceId: DEV_A, avgCpu: 15, peakCpu: 70 }]);
    expect(await technicianStats(store, ORG1)).toEqual([{ technicianId: TECH, ticketsClosed: 2, avgHours: 1.5, slaBreaches: 1 }]);
    expect(await technicianStats(store, ORG2)).toEqual([]);
    expect(await apiUsageForMonth(store, ORG1, new Date(now - 1_000))).toEqual({ totalCalls: 3, avgResponseTimeMs: 200, errorCount: 1, agentCalls: 0 });
    expect((await monthlyInvoice(store, ORG2, new Date(now - 1_000))).totalCost).toBe(5);
    expect(await deviceStatusCounts(store, ORG1)).toEqual([{ status: 'offline', totalDevices: 1 }, { status: 'online', totalDevices: 1 }]);
  });

  it('archives a cold month to S3 as Parquet, reads it back from there, then drops it from hot storage', async () => {
    const old = Date.UTC(2024, 0, 15);
    await store.insert('api_calls', [1, 2, 3].map((i) => ({
      timestamp: unix(old + i * 1_000), organization_id: ORG2, endpoint: 'x', method: 'query', status_code: 200, response_time_ms: i, user_id: TECH,
    })));
    const prefix = `runs/${run}`;
    const target: ArchiveTarget = {
      dir: join(dir, 'archive-unused'),
      s3: S3_URL
        ? { url: `${S3_URL.replace(/\/+$/, '')}/${prefix}`, accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY }
        : { url: `${s3!.bucketUrl}/${prefix}`, ...S3RVER_CREDENTIALS },
    };
    const archived = await archiveColdPartitions(store, target, log, { olderThanDays: 90, nowMs: now });
    const calls = archived.find((part) => part.table === 'api_calls' && part.partitionId === '202401');
    expect(calls).toMatchObject({ rows: 3, location: `${target.s3!.url}/api_calls/202401.parquet` });
    expect(existsSync(join(dir, 'archive-unused'))).toBe(false);
    const hot = await store.query<{ n: string }>("SELECT count() AS n FROM api_calls WHERE _partition_id = '202401'");
    expect(Number(hot[0]!.n)).toBe(0);
    // The rows now exist only in the bucket: ClickHouse reads them back from there.
    const credentials = `'${target.s3!.accessKeyId}', '${target.s3!.secretAccessKey}'`;
    const back = await store.query<{ n: string; ms: string }>(`SELECT count() AS n, sum(response_time_ms) AS ms FROM s3('${calls!.location}', ${credentials}, 'Parquet')`);
    expect([Number(back[0]!.n), Number(back[0]!.ms)]).toEqual([3, 6]);
    if (s3) {
      // And the object is a Parquet file in the S3 server's own storage.
      const file = join(s3.bucketDir, prefix, 'api_calls', '202401.parquet._S3rver_object');
      const bytes = readFileSync(file);
      expect([bytes.subarray(0, 4).toString(), bytes.subarray(-4).toString()]).toEqual(['PAR1', 'PAR1']);
    }
    // This month's data is not cold: still in hot storage.
    const recent = await store.query<{ n: string }>('SELECT count() AS n FROM device_metrics_hourly WHERE timestamp >= now() - INTERVAL 30 DAY');
    expect(Number(recent[0]!.n)).toBeGreaterThan(0);
  });

  it('keeps a partition whose export cannot be written (bad S3 credentials)', async () => {
    const old = Date.UTC(2023, 5, 15);
    await store.insert('ticket_events', [{ ticket_id: TICKET, event_type: 'closed', timestamp: unix(old), duration_seconds: 1, sla_breached: 0, organization_id: ORG1, technician_id: TECH }]);
    const url = `${S3_URL ? S3_URL.replace(/\/+$/, '') : s3!.bucketUrl}/runs/${run}-denied`;
    await expect(archiveColdPartitions(store, { dir, s3: { url, accessKeyId: 'not-a-key', secretAccessKey: 'not-a-secret' } }, log, { olderThanDays: 90, nowMs: now }))
      .rejects.toThrow();
    const kept = await store.query<{ n: string }>("SELECT count() AS n FROM ticket_events WHERE _partition_id = '202306'");
    expect(Number(kept[0]!.n)).toBe(1);
  });
}, 240_000);
