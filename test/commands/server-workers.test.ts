import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createScratchDatabase, dropRedisKeys, fakeSampleRecord } from '@ninjait/server/testing';
import { readLocalAdminToken } from '@ninjait/server';
import { openAnalyticsStore } from '@ninjait/server/stores/analytics';
import {
  collectOutput, createTenant, processGone, resultOfEvents, startAgent, textOf, until, wsClient, type Tenant,
} from '@ninjait/server/testing/commands';
import { freePort, SERVER_CLI, startCli, type Proc } from '../support/processes.ts';

const ready = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const KEY_PREFIX = `workers:${randomBytes(4).toString('hex')}:`;
if (!ready) console.warn('DATABASE_URL and REDIS_URL are not both set: the WORKERS test is skipped (workers share PostgreSQL and Redis)');

const AGENTS = 6;

/** The pids of the workers that logged "NinjaIT server listening", in order. */
const listeningPids = (output: string) => output.split('\n')
  .filter((line) => line.includes('"NinjaIT server listening"'))
  .map((line) => (JSON.parse(line) as { pid: number }).pid);

/**
 * Established TCP connections that process `pid` holds on local port `port`: its socket
 * descriptors matched against the kernel's connection tables. How a test sees which worker
 * the cluster handed each connection to, without asking the server.
 */
function establishedOn(pid: number, port: number): number {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const target = (() => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    })();
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode) inodes.add(inode);
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address rem_address st ... inode (field 9); 01 is ESTABLISHED.
      if (fields.length > 9 && fields[1]!.endsWith(`:${hexPort}`) && fields[3] === '01' && inodes.has(fields[9]!)) count += 1;
    }
  }
  return count;
}

/** One metric's value from the Prometheus text /metrics serves. */
async function metric(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : null;
}

/**
 * `ninjait serve` with WORKERS=2: one address, two server processes (Node's cluster hands each
 * connection to the next worker), a primary that prepares the stores, relays embedded chdb and
 * merges /metrics, and restarts a worker that dies.
 */
describe.skipIf(!ready)('one server as two workers behind one port (WORKERS=2)', () => {
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let dataDir: string;
  let port: number;
  let url: string;
  let server: Proc;
  let tenant: Tenant;
  const devices: { deviceId: string; deviceSecret: string }[] = [];
  const agents: Awaited<ReturnType<typeof startAgent>>[] = [];
  let tech: ReturnType<typeof wsClient>;
  let pushed = 0;

  const query = async <Row>(sql: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: database!.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as Row[];
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    database = await createScratchDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'ninjait-workers-'));
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = startCli(SERVER_CLI, ['serve'], {
      PORT: String(port), DATA_DIR: dataDir, DATABASE_URL: database!.url, REDIS_URL: process.env.REDIS_URL,
      REDIS_KEY_PREFIX: KEY_PREFIX, QUEUE_PREFIX: `${KEY_PREFIX}q`, WORKERS: '2', LOG_LEVEL: 'info', RATE_LIMIT_MAX: '100000',
    });
    await until(() => server.output().includes('"NinjaIT server workers listening"'), 120_000, 100).catch(() => {
      throw new Error(`the workers did not start:\n${server.output().slice(-4_000)}`);
    });
    tenant = await createTenant(url, (await readLocalAdminToken(dataDir))!, 'Workers X');
    for (let i = 0; i < AGENTS; i++) devices.push(await tenant.enroll(`workers-${i}`));
    for (const device of devices) agents.push(await startAgent(url, device));
    tech = wsClient(url, { sessionToken: tenant.technicianToken });
  }, 180_000);

  afterAll(async () => {
    await tech?.close();
    await Promise.allSettled(agents.map((agent) => agent.stop()));
    // A test that failed midway leaves its workers: they end with the primary, and are killed too.
    const workers = server ? listeningPids(server.output()) : [];
    await server?.kill('SIGKILL');
    for (const pid of workers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await database?.drop();
    if (process.env.REDIS_URL) await dropRedisKeys(process.env.REDIS_URL, [`${KEY_PREFIX}*`]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('hands connections to both workers; /metrics counts them all', async () => {
    const pids = listeningPids(server.output());
    expect(new Set(pids).size).toBe(2);
    // Each agent holds one socket, the technician one: 7 connections, handed out in turn.
    await until(async () => (await metric(url, 'ninjait_connected_agents')) === AGENTS, 30_000, 100);
    const perWorker = pids.map((pid) => establishedOn(pid, port));
    expect(perWorker.every((count) => count >= 2), `connections per worker: ${perWorker.join(', ')}`).toBe(true);
  });

  it('runs a command on every agent whichever worker holds it and whichever the technician reached', async () => {
    for (const [i, device] of devices.entries()) {
      const command = await tech.client.commands.run.mutate({ deviceId: device.deviceId, script: `echo from-agent-${i}` });
      const events = await collectOutput(tech.client, command.id, { timeoutMs: 20_000 });
      expect(resultOfEvents(events)).toMatchObject({ status: 'succeeded', exitCode: 0 });
      expect(textOf(events, 'stdout')).toBe(`from-agent-${i}\n`);
    }
  }, 120_000);

  it('ingests on either worker and drains every store, ClickHouse through the primary\'s chdb', async () => {
    const now = Date.now();
    for (const device of devices.slice(0, 2)) {
      const socket = wsClient(url, device);
      try {
        const records = [1, 2, 3].map((seq) => fakeSampleRecord(seq, now - (4 - seq) * 1_000, 77));
        expect(await socket.client.agent.push.mutate({ records })).toEqual({ ackSeq: 3 });
        pushed += records.length;
      } finally {
        await socket.close();
      }
    }
    let seen = '';
    await until(async () => {
      const [log] = await query<{ last: number }>('SELECT coalesce(max(id), 0)::int AS last FROM ingest_log');
      const cursors = await query<{ sink: string; position: number }>('SELECT sink, position::int AS position FROM drain_cursors');
      seen = `log ends at ${log?.last}; cursors ${JSON.stringify(cursors)}`;
      return (log?.last ?? 0) > 0 && cursors.some((cursor) => cursor.sink === 'clickhouse') && cursors.every((cursor) => cursor.position >= log!.last);
    }, 60_000, 200).catch((error: Error) => {
      throw new Error(`${error.message}: ${seen}\n${server.output().slice(-3_000)}`);
    });
  }, 90_000);

  it('starts another worker when one dies; its agents reconnect and commands reach them', async () => {
    const [victim] = listeningPids(server.output());
    process.kill(victim!, 'SIGKILL');
    await until(() => server.output().includes('"a server worker ended; starting another"'), 10_000, 50);
    await until(() => listeningPids(server.output()).length === 3, 60_000, 100);
    await until(async () => (await metric(url, 'ninjait_connected_agents')) === AGENTS, 60_000, 200);
    for (const device of [devices[0]!, devices.at(-1)!]) {
      const command = await tech.client.commands.run.mutate({ deviceId: device.deviceId, script: 'echo after-restart' });
      expect(resultOfEvents(await collectOutput(tech.client, command.id, { timeoutMs: 20_000 }))).toMatchObject({ status: 'succeeded' });
    }
  }, 150_000);

  it('stops every worker and chdb on SIGTERM with exit code 0; ClickHouse holds each sample once', async () => {
    const workers = listeningPids(server.output()).slice(-2);
    expect(await server.kill('SIGTERM')).toBe(0);
    for (const pid of workers) expect(await processGone(pid)).toBe(true);
    expect(server.output()).toContain('"NinjaIT server workers stopped"');
    // The folder is free again (chdb holds a lock while a process has it open): this opens it.
    const analytics = openAnalyticsStore({ dataDir });
    try {
      const [row] = await analytics.query<{ n: string; distinct: string }>(
        'SELECT count() AS n, uniqExact(device_id, seq) AS distinct FROM device_metrics_raw FINAL');
      expect({ rows: Number(row?.n), distinct: Number(row?.distinct) }).toEqual({ rows: pushed, distinct: pushed });
    } finally {
      await analytics.close();
    }
  }, 90_000);
}, 600_000);
