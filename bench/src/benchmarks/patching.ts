import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InventoryReport, SoftwareItem } from '@ninjait/shared';
import { buildReport, collectSoftware } from '@ninjait/agent/inventory';
import { migrate, openRelationalStore, type RelationalStore } from '@ninjait/server';
import { createMemoryCache } from '@ninjait/server/cache';
import { createLogger } from '@ninjait/server/obs/logger';
import { createPatchingService } from '@ninjait/server/patching';
import { resolveScopes } from '@ninjait/server/fleet';
import { removeDir } from '../lib/agent-process.ts';
import { progress } from '../lib/progress.ts';
import { Histogram, round, type LatencySummary } from '../lib/stats.ts';
import { scratchDatabase } from '../lib/stores.ts';
import { fmt, type Row } from '../lib/table.ts';
import { setting, type BenchContext, type Benchmark } from './types.ts';
import { scratchDir } from '../lib/scratch.ts';

/**
 * Software inventory at fleet size (issue #17): every device's full package list written through
 * the server's own report path (the patching service: lock, base check, diff against the stored
 * rows, upsert), then one hourly round of diffs (checked against the agent's own diff code), then the fleet
 * question "which devices have package X older than version V" (the service's query: the name
 * index, then each ecosystem's version order in code). On PostgreSQL when DATABASE_URL is set,
 * and on the embedded PGlite at a smaller size (one WASM connection: the full size would take
 * most of an hour). History rows for ClickHouse are left out: the figure is the state store's.
 * Last, the real collector runs once on this machine and its CPU time is reported.
 */

/** A catalogue of package names shared by the fleet: most devices have the common ones. */
const CATALOGUE = 3_000;
const COMMON_SHARE = 0.8;

const nameOf = (i: number) => (i % 3 === 0 ? `lib${['ssl', 'xml', 'z', 'curl', 'gnutls', 'krb5', 'pcre', 'sqlite', 'ssh', 'png'][i % 10]}${i}` : `pkg-${i}`);

/** A Debian-style version whose patch level varies by device, so "older than" picks a share of the fleet. */
const versionOf = (pkg: number, device: number, generation: number) =>
  `${1 + (pkg % 7)}.${pkg % 13}.${(device + pkg) % 10 + generation}-${1 + (pkg % 3)}+deb12u${(device % 4) + 1}`;

/** Device `d`'s packages: the common ones and a few of its own; `generation` bumps the versions of some. */
function softwareOf(d: number, packages: number, generation: number, changed: number): SoftwareItem[] {
  const common = Math.round(packages * COMMON_SHARE);
  const items: SoftwareItem[] = [];
  for (let i = 0; i < packages; i++) {
    const pkg = i < common ? i : common + ((d * 37 + i) % (CATALOGUE - common));
    // A diff round upgrades `changed` packages (spread over the list) and swaps one package for another.
    const bumped = generation > 0 && i % Math.max(1, Math.floor(packages / Math.max(1, changed))) === 0;
    const name = generation > 0 && i === packages - 1 ? `${nameOf(pkg)}-next` : nameOf(pkg);
    items.push({ key: `dpkg:${name}:amd64`, name, version: versionOf(pkg, d, bumped ? generation : 0), arch: 'amd64', publisher: 'Debian', source: 'dpkg', installedAtMs: null });
  }
  return items;
}

const hashOf = (d: number, generation: number) => createHash('sha256').update(`${d}:${generation}`).digest('hex');
const EMPTY = { upsert: [], remove: [] };

/**
 * Device `d`'s report in the agent's shape (what buildReport sends): everything at generation 0,
 * then at generation 1 only what changed. Made directly, because the simulated agents' hashing and
 * diffing would otherwise share these two cores with the server path being measured.
 */
function reportOf(d: number, packages: number, changed: number, generation: 0 | 1): InventoryReport {
  const now = softwareOf(d, packages, generation, changed);
  let software: InventoryReport['software'] = { upsert: now, remove: [] };
  if (generation === 1) {
    const before = softwareOf(d, packages, 0, 0);
    const upsert = now.filter((item, i) => item.key !== before[i]!.key || item.version !== before[i]!.version);
    software = { upsert, remove: before.filter((item, i) => item.key !== now[i]!.key).map((item) => item.key) };
  }
  return {
    baseHash: generation === 0 ? null : hashOf(d, 0), hash: hashOf(d, generation), software, services: EMPTY, updates: EMPTY,
    rebootPending: false, lastPatchedAtMs: null, collectedAtMs: Date.now(),
  };
}

/** Reports are made this many devices at a time, outside the timed part. */
const CHUNK = 250;

/** Runs `work` for items 0..n-1, `concurrency` at a time. */
async function pool(n: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) await work(next++);
  }));
}

/** `sec`: the timed service calls; `wallSec`: with making the reports. */
interface IngestFigures { devices: number; rows: number; sec: number; rowsPerSec: number; reportsPerSec: number; wallSec: number }

interface StoreFigures {
  engine: 'postgresql' | 'pglite';
  devices: number;
  packagesPerDevice: number;
  concurrency: number;
  full: IngestFigures;
  diffs: IngestFigures & { changedPerDevice: number };
  /** The same rows as the full ingest, bare: one INSERT per device into a table with only a primary key. */
  bareInsertBaseline: IngestFigures;
  olderThan: LatencySummary & { matchesAvg: number };
  /** The index lookup alone (count of one name): the floor under the query. */
  nameLookupBaseline: LatencySummary;
}

async function provision(db: RelationalStore, devices: number, runId: string) {
  const { rows: [org] } = await db.query<{ id: string }>('INSERT INTO organizations (name) VALUES ($1) RETURNING id', [`bench-${runId}-patching`]);
  const ids = Array.from({ length: devices }, () => randomUUID());
  for (let from = 0; from < devices; from += 2_000) {
    const slice = ids.slice(from, from + 2_000);
    await db.query(
      `INSERT INTO devices (id, name, organization_id, status, os_type, machine_key, approval_state)
       SELECT id, 'bench-' || n, $1, 'online', 'linux', 'bench-' || n || '-' || $3, 'approved' FROM unnest($2::uuid[]) WITH ORDINALITY AS t(id, n)`,
      [org!.id, slice, runId]);
  }
  return { organizationId: org!.id, ids };
}

async function measureStore(engine: 'postgresql' | 'pglite', db: RelationalStore, sizes: { devices: number; packages: number; changed: number; queries: number; concurrency: number; baselineDevices: number }, runId: string): Promise<StoreFigures> {
  await migrate(db);
  const { organizationId, ids } = await provision(db, sizes.devices, runId);
  const log = createLogger('silent');
  // History (ClickHouse) is out of this figure: a no-op sink in its place. The cache is the real in-process one.
  const analytics = { engine: 'chdb', insert: async () => undefined } as never;
  const service = createPatchingService({ db, cache: createMemoryCache(), analytics, queue: {} as never, log, perOrganizationConcurrency: 5, resolveScopes });

  /** Ingests every device's report through the service, `concurrency` at a time; only the service calls are timed. */
  const ingest = async (label: string, report: (d: number) => InventoryReport, rowsOf: (r: InventoryReport) => number): Promise<IngestFigures> => {
    let rows = 0;
    let timedMs = 0;
    const t0 = performance.now();
    let lastLog = t0;
    for (let from = 0; from < sizes.devices; from += CHUNK) {
      const reports = Array.from({ length: Math.min(CHUNK, sizes.devices - from) }, (_, i) => report(from + i));
      const c0 = performance.now();
      await pool(reports.length, sizes.concurrency, async (i) => {
        const ack = await service.report({ deviceId: ids[from + i]!, organizationId }, reports[i]!);
        if (!ack.accepted) throw new Error(`${label}: the server asked device ${from + i} for a full report`);
        rows += rowsOf(reports[i]!);
      });
      timedMs += performance.now() - c0;
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        progress(`patching/${engine}: ${label} ${from + reports.length}/${sizes.devices} devices, ${round(rows / (timedMs / 1000), 0)} rows/s`);
      }
    }
    const sec = timedMs / 1000;
    return { devices: sizes.devices, rows, sec: round(sec, 1), rowsPerSec: round(rows / sec, 0), reportsPerSec: round(sizes.devices / sec, 1), wallSec: round((performance.now() - t0) / 1000, 1) };
  };

  // The reports made here are what the agent's buildReport would send (device 0 checked).
  const snapshot = (software: SoftwareItem[]) => ({ software, services: [], updates: [], rebootPending: false, lastPatchedAtMs: null });
  const agentDiff = buildReport({ hash: hashOf(0, 0), snapshot: snapshot(softwareOf(0, sizes.packages, 0, 0)) }, snapshot(softwareOf(0, sizes.packages, 1, sizes.changed)), Date.now());
  const ours = reportOf(0, sizes.packages, sizes.changed, 1);
  const keys = (items: { key: string }[]) => items.map((item) => item.key).sort().join();
  if (keys(agentDiff.software.upsert) !== keys(ours.software.upsert) || agentDiff.software.remove.sort().join() !== ours.software.remove.sort().join()) {
    throw new Error('the benchmark\'s diff differs from the agent\'s buildReport');
  }

  progress(`patching/${engine}: full inventories of ${sizes.devices} devices × ${sizes.packages} packages`);
  const full = await ingest('full', (d) => reportOf(d, sizes.packages, 0, 0), (r) => r.software.upsert.length);
  // What autovacuum does after a load this size within a minute; the planner needs it to pick the name index.
  await db.query('ANALYZE');
  progress(`patching/${engine}: one round of diffs (${sizes.changed} upgrades and one swap per device)`);
  const diffs = await ingest('diffs', (d) => reportOf(d, sizes.packages, sizes.changed, 1), (r) => r.software.upsert.length + r.software.remove.length);
  await db.query('ANALYZE');

  progress(`patching/${engine}: "older than" queries`);
  const query = new Histogram();
  const lookup = new Histogram();
  let matches = 0;
  const common = Math.round(sizes.packages * COMMON_SHARE);
  for (let i = 0; i < sizes.queries + 5; i++) {
    const pkg = (i * 7919) % Math.max(1, common);
    const name = nameOf(pkg);
    // The middle patch level: about half the fleet is older.
    const threshold = `${1 + (pkg % 7)}.${pkg % 13}.5`;
    let t = performance.now();
    const older = await service.olderThan(organizationId, name, threshold);
    if (i >= 5) query.record(performance.now() - t);
    if (i >= 5) matches += older.length;
    t = performance.now();
    await db.query('SELECT count(*) FROM device_software WHERE organization_id = $1 AND lower(name) = lower($2)', [organizationId, name]);
    if (i >= 5) lookup.record(performance.now() - t);
  }

  progress(`patching/${engine}: bare-insert baseline on ${sizes.baselineDevices} devices`);
  await db.query(`CREATE TABLE bench_bare_software (device_id UUID NOT NULL, organization_id UUID NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL,
    version TEXT NOT NULL, arch TEXT NOT NULL, publisher TEXT NOT NULL, source TEXT NOT NULL, installed_at TIMESTAMPTZ, PRIMARY KEY (device_id, key))`);
  let bareRows = 0;
  const b0 = performance.now();
  await pool(sizes.baselineDevices, sizes.concurrency, async (d) => {
    const items = softwareOf(d, sizes.packages, 0, 0);
    await db.query(
      `INSERT INTO bench_bare_software SELECT $1, $2, k, n, v, 'amd64', 'Debian', 'dpkg', NULL FROM unnest($3::text[], $4::text[], $5::text[]) AS t(k, n, v)`,
      [ids[d], organizationId, items.map((x) => x.key), items.map((x) => x.name), items.map((x) => x.version)]);
    bareRows += items.length;
  });
  const bareSec = (performance.now() - b0) / 1000;
  await db.query('DROP TABLE bench_bare_software');

  return {
    engine, devices: sizes.devices, packagesPerDevice: sizes.packages, concurrency: sizes.concurrency,
    full, diffs: { ...diffs, changedPerDevice: sizes.changed },
    bareInsertBaseline: { devices: sizes.baselineDevices, rows: bareRows, sec: round(bareSec, 1), rowsPerSec: round(bareRows / bareSec, 0), reportsPerSec: round(sizes.baselineDevices / bareSec, 1), wallSec: round(bareSec, 1) },
    olderThan: { ...query.summary(), matchesAvg: round(matches / Math.max(1, sizes.queries), 0) },
    nameLookupBaseline: lookup.summary(),
  };
}

/** Children's CPU (the tools the collector ran, once they exited) from /proc/self/stat, in ms; null off Linux. */
async function childrenCpuMs(): Promise<number | null> {
  try {
    const stat = await readFile('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of stat (cutime, cstime), counted from the state field (3): indexes 13 and 14, in clock ticks (100 Hz).
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}

/** One real inventory pass of this machine: the agent's own CPU, its tools' CPU, wall time, and a bare dpkg-query beside it. */
async function agentPass() {
  const cpu0 = process.cpuUsage();
  const children0 = await childrenCpuMs();
  const t0 = performance.now();
  const snapshot = await collectSoftware();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const children1 = await childrenCpuMs();
  const report = buildReport(null, snapshot, Date.now());
  const b0 = await childrenCpuMs();
  const bt = performance.now();
  await new Promise((resolve) => execFile('dpkg-query', ['-W'], { maxBuffer: 64 * 1024 * 1024 }, resolve));
  const bareWallMs = performance.now() - bt;
  const b1 = await childrenCpuMs();
  return {
    packages: snapshot.software.length, services: snapshot.services.length, updates: snapshot.updates.length, reportKb: round(Buffer.byteLength(JSON.stringify(report)) / 1024, 0),
    wallMs: round(wallMs, 0), agentCpuMs: round((cpu.user + cpu.system) / 1000, 0),
    toolsCpuMs: children0 === null || children1 === null ? null : children1 - children0,
    bareDpkgQuery: { wallMs: round(bareWallMs, 0), cpuMs: b0 === null || b1 === null ? null : b1 - b0 },
  };
}

export const patchingBenchmark: Benchmark = {
  name: 'patching',
  summary: 'software inventory of a fleet: full then diff ingest, "older than" query p95, the agent\'s inventory pass CPU',
  async run(ctx: BenchContext) {
    const sizes = {
      devices: setting(ctx, 'patchDevices', 10_000, 20),
      packages: setting(ctx, 'packages', 1_500, 60),
      changed: setting(ctx, 'changedPackages', 15, 3),
      queries: setting(ctx, 'patchQueries', 200, 10),
      concurrency: setting(ctx, 'patchConcurrency', 4, 2),
      baselineDevices: setting(ctx, 'bareDevices', 500, 5),
    };
    const pgliteSizes = { ...sizes, devices: setting(ctx, 'pgliteDevices', 200, 10), concurrency: 1, baselineDevices: setting(ctx, 'pgliteDevices', 200, 10) };
    const stores: StoreFigures[] = [];

    const dir = await scratchDir('ninjait-bench-patching-');
    try {
      const pglite = await openRelationalStore({ dataDir: join(dir, 'pglite') });
      try {
        stores.push(await measureStore('pglite', pglite, pgliteSizes, ctx.runId));
      } finally {
        await pglite.close();
      }
    } finally {
      await removeDir(dir);
    }
    if (ctx.stores.databaseUrl) {
      const scratch = await scratchDatabase(ctx.stores.databaseUrl);
      try {
        const pg = await openRelationalStore({ databaseUrl: scratch.url });
        try {
          stores.push(await measureStore('postgresql', pg, sizes, ctx.runId));
        } finally {
          await pg.close();
        }
      } finally {
        await scratch.drop();
      }
    } else {
      progress('patching: DATABASE_URL is not set, so the fleet-size PostgreSQL figures are skipped (PGlite ran)');
    }
    progress('patching: one real inventory pass of this machine');
    const agent = await agentPass();

    const rows: Row[] = [];
    for (const s of stores) {
      const on = `${s.devices.toLocaleString('en-US')} devices × ${s.packagesPerDevice.toLocaleString('en-US')} packages, ${s.engine}`;
      rows.push({
        benchmark: 'patching', figure: `full inventory ingest, ${on}`,
        value: `${fmt(s.full.rowsPerSec, 'rows/s', 0)} · ${fmt(s.full.sec, 's')}`,
        baseline: `bare INSERT of the same rows ${fmt(s.bareInsertBaseline.rowsPerSec, 'rows/s', 0)}`, goal: '10,000 × 1,500 in < 5 min (50,000 rows/s)',
      });
      rows.push({
        benchmark: 'patching', figure: `diff ingest (${s.diffs.changedPerDevice} upgrades + 1 swap per device), ${s.engine}`,
        value: `${fmt(s.diffs.reportsPerSec, 'devices/s')} · ${fmt(s.diffs.sec, 's')}`,
        baseline: `full reports ${fmt(s.full.reportsPerSec, 'devices/s')}`, goal: 'an hourly round of 10,000 in < 60 s',
      });
      rows.push({
        benchmark: 'patching', figure: `"package X older than V" p50 / p95 (${s.olderThan.matchesAvg} matches avg), ${s.engine}`,
        value: `${fmt(s.olderThan.p50Ms, 'ms')} / ${fmt(s.olderThan.p95Ms, 'ms')}`,
        baseline: `name index lookup alone p95 ${fmt(s.nameLookupBaseline.p95Ms, 'ms')}`, goal: 'p95 < 200 ms at 10,000 devices',
      });
    }
    rows.push({
      benchmark: 'patching', figure: `agent inventory pass on this machine (${agent.packages} packages, ${agent.services} services): CPU agent + tools · wall`,
      value: `${agent.agentCpuMs} + ${agent.toolsCpuMs ?? '-'} ms · ${agent.wallMs} ms`,
      baseline: `bare dpkg-query -W ${agent.bareDpkgQuery.cpuMs ?? '-'} ms CPU`, goal: 'hourly ≤ 0.2 % of a core (the footprint goal): < 7.2 s CPU per pass',
    });
    return { config: { sizes, pgliteSizes, catalogue: CATALOGUE, commonShare: COMMON_SHARE }, figures: { stores, agent }, rows };
  },
};
