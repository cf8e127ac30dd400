import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxDB } from '@influxdata/influxdb-client';
import { pino } from 'pino';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateAnalytics, type AnalyticsStore } from '@ninjait/server/stores/analytics';
import { createInfluxTimeSeriesStore, toInfluxPoint } from '@ninjait/server/stores/timeseries';
import { REPO_ROOT } from '../support/processes.ts';
import { openClickhouseTarget, type ClickhouseTarget } from './clickhouse-target.ts';

/**
 * The Grafana dashboards docker-compose.yml provisions: every panel names a data source that is
 * provisioned, with its type; Flux reads the bucket, measurement, tags and fields the Influx
 * adapter writes; every ClickHouse panel's SQL runs, Grafana's macros expanded, on ClickHouse
 * with our schema and returns rows; with InfluxDB 2 at hand (the engines workflow) every Flux panel runs too.
 */
interface Target { refId: string; datasource?: { type: string; uid: string }; query?: string; rawSql?: string; format?: number }
interface Panel { id: number; title: string; type: string; datasource: { type: string; uid: string }; targets: Target[] }
interface Variable { name: string; datasource?: { type: string; uid: string }; query?: string }
interface Dashboard { uid: string; title: string; panels: Panel[]; templating: { list: Variable[] } }

const GRAFANA = join(REPO_ROOT, 'grafana');
const readYaml = <T>(path: string) => parse(readFileSync(path, 'utf8')) as T;
const datasources = readYaml<{ datasources: { uid: string; type: string; jsonData: { defaultBucket?: string } }[] }>(join(GRAFANA, 'provisioning/datasources/ninjait.yml')).datasources;
const dashboards = readdirSync(join(GRAFANA, 'dashboards')).filter((name) => name.endsWith('.json'))
  .map((name) => ({ name, dashboard: JSON.parse(readFileSync(join(GRAFANA, 'dashboards', name), 'utf8')) as Dashboard }));
const byType = (type: string) => dashboards.flatMap(({ dashboard }) => dashboard.panels.flatMap((panel) => panel.targets
  .filter((target) => (target.datasource ?? panel.datasource).type === type)
  .map((target) => ({ title: `${dashboard.title} / ${panel.title}`, panel, target }))));
const fluxQueries = [
  ...byType('influxdb').map(({ title, target }) => ({ title, flux: target.query ?? '' })),
  ...dashboards.flatMap(({ dashboard }) => dashboard.templating.list.filter((v) => v.datasource?.type === 'influxdb').map((v) => ({ title: `${dashboard.title} / $${v.name}`, flux: v.query ?? '' }))),
];
const clickhouseQueries = byType('grafana-clickhouse-datasource');

/** What the Influx adapter writes, read off a real point: measurement, tag keys, field keys. */
function influxSchema() {
  const line = toInfluxPoint({ deviceId: 'd', organizationId: 'o', timestamp: new Date(0), cpu: 1, memory: 1, diskUsed: 1, networkRx: 1, networkTx: 1, diskPercent: 1 }).toLineProtocol()!;
  const [series, fields] = line.split(' ');
  const [measurement, ...tags] = series!.split(',');
  return { measurement: measurement!, tags: tags.map((tag) => tag.split('=')[0]!), fields: fields!.split(',').map((field) => field.split('=')[0]!) };
}

describe('Grafana provisioning', () => {
  it('has dashboards, each panel on a provisioned data source of its own type, ids and uids unique', () => {
    expect(dashboards.map(({ name }) => name).sort()).toEqual(['analytics.json', 'fleet-metrics.json']);
    const provisioned = new Map(datasources.map((source) => [source.uid, source.type]));
    expect(new Set(provisioned.values())).toEqual(new Set(['influxdb', 'grafana-clickhouse-datasource']));
    expect(new Set(dashboards.map(({ dashboard }) => dashboard.uid)).size).toBe(dashboards.length);
    for (const { dashboard } of dashboards) {
      expect(dashboard.panels.length, dashboard.title).toBeGreaterThan(3);
      expect(new Set(dashboard.panels.map((panel) => panel.id)).size, dashboard.title).toBe(dashboard.panels.length);
      for (const panel of dashboard.panels) {
        expect(provisioned.get(panel.datasource.uid), `${dashboard.title} / ${panel.title}`).toBe(panel.datasource.type);
        expect(panel.targets.length, panel.title).toBeGreaterThan(0);
        for (const target of panel.targets) expect(target.datasource ?? panel.datasource, panel.title).toEqual(panel.datasource);
      }
      for (const variable of dashboard.templating.list) {
        if (variable.datasource) expect(provisioned.get(variable.datasource.uid), variable.name).toBe(variable.datasource.type);
      }
    }
  });

  it('is mounted by docker-compose.yml with the plugin and the secrets its data sources expand', () => {
    const compose = readYaml<{ services: Record<string, { environment?: Record<string, string>; volumes?: string[] }> }>(join(REPO_ROOT, 'docker-compose.yml'));
    const grafana = compose.services.grafana!;
    expect(grafana.volumes).toEqual(expect.arrayContaining(['./grafana/provisioning:/etc/grafana/provisioning:ro', './grafana/dashboards:/etc/grafana/dashboards:ro']));
    const provider = readYaml<{ providers: { options: { path: string } }[] }>(join(GRAFANA, 'provisioning/dashboards/ninjait.yml')).providers[0]!;
    expect(provider.options.path).toBe('/etc/grafana/dashboards');
    expect(grafana.environment?.GF_INSTALL_PLUGINS).toMatch(/\bgrafana-clickhouse-datasource\b/);
    const settings = readFileSync(join(GRAFANA, 'provisioning/datasources/ninjait.yml'), 'utf8').split('\n').filter((line) => !line.trim().startsWith('#')).join('\n');
    const expanded = [...settings.matchAll(/\$\{?([A-Z_]+)/g)].map((match) => match[1]!);
    expect(expanded.length).toBeGreaterThan(0);
    for (const name of expanded) expect(grafana.environment?.[name], `${name} for the data sources`).toBeTruthy();
  });

  it('reads, in Flux, only the bucket, measurement, tags and fields the Influx adapter writes', () => {
    const schema = influxSchema();
    const bucket = datasources.find((source) => source.type === 'influxdb')!.jsonData.defaultBucket;
    expect(fluxQueries.length).toBeGreaterThan(3);
    for (const { title, flux } of fluxQueries) {
      const buckets = [...flux.matchAll(/bucket: "([^"]+)"/g)].map((match) => match[1]);
      expect(buckets.length, title).toBeGreaterThan(0);
      expect(new Set(buckets), title).toEqual(new Set([bucket]));
      for (const [, measurement] of flux.matchAll(/r\._measurement == "([^"]+)"/g)) expect(measurement, title).toBe(schema.measurement);
      for (const [, field] of flux.matchAll(/r\._field == "([^"]+)"/g)) expect(schema.fields, title).toContain(field);
      for (const [, column] of flux.matchAll(/\br\.([a-z_]+)/g)) if (!column!.startsWith('_')) expect(schema.tags, title).toContain(column);
      for (const [, column] of flux.matchAll(/(?:column|tag): "([^"_][^"]*)"/g)) expect(schema.tags, title).toContain(column);
    }
  });
});

/** Grafana's ClickHouse plugin macros, as the plugin expands them, for a window and a step. */
function expandClickhouseMacros(sql: string, fromSec: number, toSec: number, stepSec: number): string {
  const expanded = sql
    .replace(/\$__timeFilter\((\w+)\)/g, (_, column: string) => `${column} >= toDateTime(${fromSec}) AND ${column} <= toDateTime(${toSec})`)
    .replace(/\$__timeInterval\((\w+)\)/g, (_, column: string) => `toStartOfInterval(toDateTime(${column}), INTERVAL ${stepSec} second)`);
  if (expanded.includes('$')) throw new Error(`a macro or variable this test does not expand is left in:\n${expanded}`);
  return expanded;
}

describe('the ClickHouse panels on ClickHouse with our schema', () => {
  let dir: string;
  let target: ClickhouseTarget;
  let store: AnalyticsStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-grafana-'));
    target = await openClickhouseTarget(dir);
    store = target.store;
    await migrateAnalytics(store);
    const at = Math.floor(Date.now() / 1000) - 3_600;
    const org = randomUUID();
    const device = randomUUID();
    const today = new Date((at + 3_000) * 1000).toISOString().slice(0, 10);
    await store.insert('device_metrics_hourly', [{ device_id: device, timestamp: at, cpu_avg: 10, cpu_max: 20, memory_avg: 30, memory_max: 40, disk_usage: 50, network_in: 60, network_out: 70 }]);
    await store.insert('ticket_events', [{ ticket_id: randomUUID(), event_type: 'closed', timestamp: at, duration_seconds: 60, sla_breached: 1, organization_id: org, technician_id: randomUUID() }]);
    await store.insert('api_calls', [{ timestamp: at + 3_000, organization_id: org, endpoint: 'devices.list', method: 'query', status_code: 500, response_time_ms: 9, user_id: randomUUID() }]);
    await store.insert('billing_events', [{ organization_id: org, event_date: today, device_count: 1, api_calls: 1, storage_gb: 0, backup_gb: 0, cost_usd: 5.001 }]);
    await store.insert('device_heartbeats', [{ organization_id: org, device_id: device, status: 'online', timestamp: at }]);
  }, 120_000);

  afterAll(async () => {
    await target?.close();
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('runs every panel\'s SQL and each returns rows (a time column first for time series)', async () => {
    expect(clickhouseQueries.length).toBeGreaterThan(5);
    const now = Math.floor(Date.now() / 1000);
    for (const { title, target: query } of clickhouseQueries) {
      const rows = await store.query<Record<string, unknown>>(expandClickhouseMacros(query.rawSql ?? '', now - 86_400, now, 3_600))
        .catch((error: Error) => { throw new Error(`${title}: ${error.message}`); });
      expect(rows.length, title).toBeGreaterThan(0);
      if (query.format === 0) expect(Object.keys(rows[0]!)[0], title).toBe('time');
    }
  });
});

const { INFLUX_URL, INFLUX_TOKEN, INFLUX_ORG } = process.env;
const influxReady = Boolean(INFLUX_URL && INFLUX_TOKEN && INFLUX_ORG);
if (!influxReady) console.warn('INFLUX_URL, INFLUX_TOKEN and INFLUX_ORG are not all set: the Flux panels are checked statically only (the engines workflow runs them)');

describe.skipIf(!influxReady)('the Flux panels on InfluxDB 2', () => {
  it('runs every panel and variable query and each returns rows for an organization that reported', async () => {
    const organizationId = randomUUID();
    const deviceId = randomUUID();
    const store = createInfluxTimeSeriesStore({ url: INFLUX_URL!, token: INFLUX_TOKEN!, org: INFLUX_ORG!, bucket: 'metrics', log: pino({ level: 'silent' }) });
    await store.write([60_000, 30_000, 1_000].map((ago, i) => ({
      deviceId, organizationId, timestamp: new Date(Date.now() - ago), cpu: 10 + i, memory: 20, diskUsed: 1_000, networkRx: 5, networkTx: 6, diskPercent: 30,
    })));
    const api = new InfluxDB({ url: INFLUX_URL!, token: INFLUX_TOKEN }).getQueryApi(INFLUX_ORG!);
    for (const { title, flux } of fluxQueries) {
      // What Grafana supplies: the `v` record and the organization variable (regex format).
      const lines = flux.replaceAll('${organization:regex}', organizationId).split('\n');
      const imports = lines.filter((line) => line.startsWith('import '));
      const script = [...imports, 'v = {timeRangeStart: -1h, timeRangeStop: now(), windowPeriod: 1m}', ...lines.filter((line) => !line.startsWith('import '))].join('\n');
      const rows = await api.collectRows(script).catch((error: Error) => { throw new Error(`${title}: ${error.message}`); });
      expect(rows.length, title).toBeGreaterThan(0);
    }
  });
});
