import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '@ninjait/server/router';
import { createScratchDatabase, dropRedisKeys, fakeSampleRecord } from '@ninjait/server/testing';
import { readLocalAdminToken } from '@ninjait/server';
import { collectOutput, createTenant, resultOfEvents, textOf, until, wsClient, type Tenant } from '@ninjait/server/testing/commands';
import { ensureDebianProgram } from '../support/debian-package.ts';
import { startPgbouncer, type Bouncer } from '../support/pgbouncer.ts';
import { freePort, REPO_ROOT, SERVER_CLI, startCli, waitForHttp, type Proc } from '../support/processes.ts';

/**
 * Two real server processes on PostgreSQL through Debian's PgBouncer in transaction mode, with a
 * pool smaller than either server's own: they start together (both run the migrations, which
 * serialise on a transaction-scoped advisory lock), ingest and drain, and run a command. Session
 * state would break here: a session advisory lock taken on one server connection and released on
 * another, a named prepared statement missing on the next connection, a SET that leaks.
 */
const databaseUrl = process.env.DATABASE_URL;
const program = databaseUrl ? ensureDebianProgram('pgbouncer', 'pgbouncer') : { reason: 'DATABASE_URL is not set (the test puts PgBouncer in front of that PostgreSQL)' };
const skipReason = 'reason' in program ? program.reason : null;
if (skipReason) console.warn(`the PgBouncer test is skipped: ${skipReason}`);

const AGENT_PROCESS = resolve(REPO_ROOT, 'test/commands/agent-process.ts');
const RUN = randomBytes(4).toString('hex');
const KEY_PREFIX = `bouncer:${RUN}:`;
/** A hashtag prefix: REDIS_URL may be Dragonfly (.github/workflows/engines.yml), where BullMQ needs one. */
const QUEUE_PREFIX = `{bouncer-${RUN}}`;

describe.skipIf(skipReason !== null)('the server behind PgBouncer (transaction pooling)', () => {
  const procs: Proc[] = [];
  const dirs: string[] = [];
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let bouncer: Bouncer;
  let urlA: string;
  let urlB: string;
  let tenant: Tenant;
  let device: { deviceId: string; deviceSecret: string };
  const direct = async <T>(sql: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: database!.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  };

  const startInstance = async (name: string) => {
    const dataDir = await mkdtemp(join(tmpdir(), `ninjait-bouncer-${name}-`));
    dirs.push(dataDir);
    const port = await freePort();
    const proc = startCli(SERVER_CLI, ['serve'], {
      PORT: String(port), DATA_DIR: dataDir, DATABASE_URL: bouncer.url, INSTANCE_ID: name, LOG_LEVEL: 'warn',
      RATE_LIMIT_MAX: '100000', DRAIN_POLL_MS: '50',
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL, REDIS_KEY_PREFIX: KEY_PREFIX, QUEUE_PREFIX } : {}),
    });
    procs.push(proc);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/healthz`, 120_000).catch((error: unknown) => {
      throw new Error(`${name} did not start behind PgBouncer: ${(error as Error).message}\n${proc.output()}\n--- pgbouncer\n${bouncer.output()}`);
    });
    return { url, dataDir };
  };

  beforeAll(async () => {
    // Empty, not the runner's migrated copy: the race for the migrations is what this file tests.
    database = await createScratchDatabase(process.env.DATABASE_URL, 'ninjait_test', { empty: true });
    bouncer = await startPgbouncer((program as { path: string }).path, database!.url);
    // Together: both race for the migrations on the one database.
    const [a, b] = await Promise.all([startInstance('A'), startInstance('B')]);
    urlA = a.url;
    urlB = b.url;
    tenant = await createTenant(urlA, (await readLocalAdminToken(a.dataDir))!, 'Bouncer Org');
    device = await tenant.enroll('bouncer-linux');
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled(procs.map((proc) => proc.kill('SIGTERM')));
    await bouncer?.stop();
    await database?.drop();
    if (process.env.REDIS_URL) await dropRedisKeys(process.env.REDIS_URL, [`${KEY_PREFIX}*`, `${QUEUE_PREFIX}:*`]);
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 })));
  });

  it('applied every migration once, though both instances ran them at the same time', async () => {
    const versions = await direct<{ version: number; n: number }>('SELECT version, count(*)::int AS n FROM schema_migrations GROUP BY version ORDER BY version');
    expect(versions.length).toBeGreaterThan(10);
    expect(versions.every((row) => row.n === 1)).toBe(true);
    // Nothing holds an advisory lock between transactions: a session lock would stay on a pooled
    // connection, held by a backend that is idle. Of this database only (pg_locks is the whole
    // server's); a lock inside a running transaction (an append's) is not one, and a leaked lock
    // stays, so it is a leak only when three looks a moment apart all find one.
    const heldWhileIdle = async () => (await direct<{ held: number }>(
      `SELECT count(*)::int AS held FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND a.state = 'idle' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`))[0]?.held ?? 0;
    const looks: number[] = [];
    for (let look = 0; look < 3 && looks.at(-1) !== 0; look++) {
      if (look > 0) await new Promise((resolve) => setTimeout(resolve, 200));
      looks.push(await heldWhileIdle());
    }
    expect(looks.at(-1)).toBe(0);
  });

  it('ingests pushes sent to B and drains them into every store; A serves the latest values', async () => {
    const socket = createWSClient({ url: `${urlB.replace(/^http/, 'ws')}/trpc`, WebSocket: WebSocket as never, connectionParams: device, retryDelayMs: () => 200 });
    const agent = createTRPCClient<AppRouter>({ links: [wsLink({ client: socket })] });
    try {
      const now = Date.now();
      expect(await agent.agent.push.mutate({ records: [fakeSampleRecord(1, now - 60_000), fakeSampleRecord(2, now - 30_000)] })).toEqual({ ackSeq: 2 });
      expect(await agent.agent.push.mutate({ records: [fakeSampleRecord(3, now, 42)] })).toEqual({ ackSeq: 3 });
    } finally {
      socket.close();
    }
    // Every sink's cursor reaches the end of the log (drainers on either instance, by lease). Given
    // time: under the suite's load a drainer's first lease and its store's start take a while.
    let seen = '';
    await until(async () => {
      const [log] = await direct<{ last: number }>('SELECT coalesce(max(id), 0)::int AS last FROM ingest_log');
      const cursors = await direct<{ sink: string; position: number }>('SELECT sink, position::int AS position FROM drain_cursors');
      seen = `log ends at ${log?.last}; cursors ${JSON.stringify(cursors)}`;
      return (log?.last ?? 0) > 0 && cursors.length > 0 && cursors.every((cursor) => cursor.position >= log!.last);
    }, 90_000, 200).catch((error: Error) => {
      throw new Error(`${error.message}: ${seen}\n--- A\n${procs[0]?.output().slice(-2_000)}\n--- B\n${procs[1]?.output().slice(-2_000)}`);
    });
    // The relational sink marked the device online in PostgreSQL; with a shared Redis, A also shows
    // the latest values the cache sink wrote (without one, each instance has its own cache).
    const [row] = await direct<{ status: string }>('SELECT status FROM devices WHERE id = $1', [device.deviceId]);
    expect(row?.status).toBe('online');
    if (process.env.REDIS_URL) {
      await until(async () => (await tenant.technician.devices.list.query({})).items[0]?.summary?.seq === 3, 30_000, 200);
      expect((await tenant.technician.devices.list.query({})).items[0]?.summary?.cpuPercent).toBe(42);
    }
  }, 150_000);

  it('runs a command on the agent connected to A, asked for through B when they share Redis', async () => {
    const agentData = await mkdtemp(join(tmpdir(), 'ninjait-bouncer-agent-'));
    dirs.push(agentData);
    const agent = startCli(AGENT_PROCESS, [], { NINJAIT_SERVER: urlA, DEVICE_ID: device.deviceId, DEVICE_SECRET: device.deviceSecret, AGENT_DATA_DIR: agentData });
    procs.push(agent);
    await until(() => agent.output().includes('agent connected'), 30_000);
    // Without Redis the instances do not route commands to each other: ask A itself.
    const tech = wsClient(process.env.REDIS_URL ? urlB : urlA, { sessionToken: tenant.technicianToken });
    try {
      await new Promise((done) => setTimeout(done, 300));
      const command = await tech.client.commands.run.mutate({ deviceId: device.deviceId, script: 'echo through-the-pooler; exit 3' });
      const events = await collectOutput(tech.client, command.id);
      expect(textOf(events, 'stdout')).toBe('through-the-pooler\n');
      expect(resultOfEvents(events)).toMatchObject({ status: 'failed', exitCode: 3 });
    } finally {
      await tech.close();
    }
  });

  it('used no more server connections than the pool holds: the servers really went through PgBouncer', async () => {
    const [connections] = await direct<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    expect(connections?.n).toBeLessThanOrEqual(bouncer.poolSize);
  });
}, 300_000);
