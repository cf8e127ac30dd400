import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, dropRedisKeys } from '@ninjait/server/testing';
import { readLocalAdminToken } from '@ninjait/server';
import {
  codeOf, collectOutput, createTenant, httpClient, processGone, resultOfEvents, textOf, until, wsClient, type Tenant,
} from '@ninjait/server/testing/commands';
import { freePort, REPO_ROOT, SERVER_CLI, startCli, waitForHttp, type Proc } from '../support/processes.ts';

const AGENT_PROCESS = resolve(REPO_ROOT, 'test/commands/agent-process.ts');
const ready = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
const KEY_PREFIX = `multi:${randomBytes(4).toString('hex')}:`;
if (!ready) console.warn('DATABASE_URL and REDIS_URL are not both set: the two-instance command test is skipped (it needs a shared PostgreSQL and Redis)');

/**
 * Two server processes on one PostgreSQL and Redis; the agent (a real process running the
 * agent's executor) connects to A; technicians act through B. Commands reach the agent through
 * Redis pub/sub on the device's channel and the output comes back to B the same way.
 */
describe.skipIf(!ready)('remote commands across two server instances', () => {
  const procs: Proc[] = [];
  const dirs: string[] = [];
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let urlA: string;
  let urlB: string;
  let tenant: Tenant;
  let other: Tenant;
  let device: { deviceId: string; deviceSecret: string };
  let tech: ReturnType<typeof wsClient>;
  let agentData: string;
  let agent: Proc;

  const startInstance = async (name: string) => {
    const dataDir = await mkdtemp(join(tmpdir(), `ninjait-${name}-`));
    dirs.push(dataDir);
    const port = await freePort();
    const proc = startCli(SERVER_CLI, ['serve'], {
      PORT: String(port), DATA_DIR: dataDir, DATABASE_URL: database!.url, REDIS_URL: process.env.REDIS_URL,
      INSTANCE_ID: name, LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '100000', QUEUE_PREFIX: `${KEY_PREFIX}q`,
      // Both instances share one key space (sessions cross them), apart from other test runs.
      REDIS_KEY_PREFIX: KEY_PREFIX,
    });
    procs.push(proc);
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/healthz`, 90_000).catch((error: unknown) => {
      throw new Error(`${name} did not start: ${(error as Error).message}\n${proc.output()}`);
    });
    return { url, dataDir };
  };
  const startAgentProcess = () => {
    const proc = startCli(AGENT_PROCESS, [], {
      NINJAIT_SERVER: urlA, DEVICE_ID: device.deviceId, DEVICE_SECRET: device.deviceSecret, AGENT_DATA_DIR: agentData,
    });
    procs.push(proc);
    return proc;
  };

  beforeAll(async () => {
    database = await createScratchDatabase();
    // One after the other: the first applies the migrations.
    const a = await startInstance('A');
    urlA = a.url;
    const b = await startInstance('B');
    urlB = b.url;
    const adminToken = (await readLocalAdminToken(a.dataDir))!;
    tenant = await createTenant(urlA, adminToken, 'Multi X');
    other = await createTenant(urlA, adminToken, 'Multi Y');
    device = await tenant.enroll('multi-linux');
    agentData = await mkdtemp(join(tmpdir(), 'ninjait-agent-'));
    dirs.push(agentData);
    agent = startAgentProcess();
    await until(() => agent.output().includes('agent connected'), 30_000);
    // The technician's session (in Redis) works on B; the socket to B carries the subscriptions.
    tech = wsClient(urlB, { sessionToken: tenant.technicianToken });
  }, 180_000);

  afterAll(async () => {
    await tech?.close();
    await Promise.allSettled(procs.map((proc) => proc.kill('SIGTERM')));
    await database?.drop();
    if (process.env.REDIS_URL) await dropRedisKeys(process.env.REDIS_URL, [`${KEY_PREFIX}*`]);
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 })));
  });

  const technicianB = () => tech.client;

  it('runs a command from B on the agent connected to A: output in order, then the exit code', async () => {
    const command = await technicianB().commands.run.mutate({
      deviceId: device.deviceId, script: 'for i in 1 2 3; do echo "line $i"; echo "warn $i" >&2; sleep 0.05; done; exit 4',
    });
    const events = await collectOutput(technicianB(), command.id);
    const seqs = events.flatMap((e) => (e.type === 'chunk' ? [e.seq] : []));
    expect(seqs).toEqual([...seqs].sort((p, q) => p - q));
    expect(textOf(events, 'stdout')).toBe('line 1\nline 2\nline 3\n');
    expect(textOf(events, 'stderr')).toBe('warn 1\nwarn 2\nwarn 3\n');
    expect(resultOfEvents(events)).toMatchObject({ status: 'failed', exitCode: 4 });
    expect(events.indexOf(resultOfEvents(events))).toBe(events.length - 1);
  });

  it('times out from B: the agent kills sleep 60 and its children', async () => {
    const command = await technicianB().commands.run.mutate({ deviceId: device.deviceId, script: 'sleep 60 & echo "child=$!"; sleep 60', timeoutSec: 1 });
    const events = await collectOutput(technicianB(), command.id);
    expect(resultOfEvents(events).status).toBe('timed_out');
    const pid = Number(/child=(\d+)/.exec(textOf(events))?.[1]);
    expect(pid).toBeGreaterThan(0);
    await until(() => processGone(pid), 3_000);
  });

  it('cancels from B a command running on the agent at A', async () => {
    const command = await technicianB().commands.run.mutate({ deviceId: device.deviceId, script: 'echo started; sleep 60' });
    let asked = false;
    const events = await collectOutput(technicianB(), command.id, {
      onEvent: (event) => {
        if (event.type === 'chunk' && !asked) {
          asked = true;
          void tenant.technician.commands.cancel.mutate({ id: command.id });
        }
      },
    });
    expect(resultOfEvents(events).status).toBe('cancelled');
  });

  it('queues for an offline agent: runs once on reconnect, never after expiry', async () => {
    await agent.kill('SIGTERM');
    const mark = join(agentData, 'ran-marks');
    const fresh = await technicianB().commands.run.mutate({ deviceId: device.deviceId, script: `echo once >> ${mark}`, expiresInSec: 120 });
    const stale = await technicianB().commands.run.mutate({ deviceId: device.deviceId, script: `echo stale >> ${mark}`, expiresInSec: 1 });
    await new Promise((done) => setTimeout(done, 1_500));
    agent = startAgentProcess();
    expect(resultOfEvents(await collectOutput(technicianB(), fresh.id)).status).toBe('succeeded');
    expect((await tenant.technician.commands.get.query({ id: stale.id })).status).toBe('expired');
    // Reconnecting again delivers nothing new.
    await agent.kill('SIGTERM');
    agent = startAgentProcess();
    await until(() => agent.output().includes('agent connected'), 30_000);
    await new Promise((done) => setTimeout(done, 500));
    expect(await readFile(mark, 'utf8')).toBe('once\n');
  });

  it('refuses a viewer and another organization on B', async () => {
    expect(await codeOf(tenant.viewer.commands.run.mutate({ deviceId: device.deviceId, script: 'id' }))).toBe('FORBIDDEN');
    expect(await codeOf(other.technician.commands.run.mutate({ deviceId: device.deviceId, script: 'id' }))).toBe('NOT_FOUND');
  });

  it("ends a viewer's output stream on B when the viewer logs out on A", async () => {
    // A device without an agent: its command stays queued, so the stream stays open until revoked.
    const quiet = await tenant.enroll('multi-quiet');
    const command = await tenant.technician.commands.run.mutate({ deviceId: quiet.deviceId, script: 'echo later' });
    const { sessionToken } = await httpClient(urlA).auth.login.mutate({ email: 'viewer@multi-x.test', password: 'correct horse battery staple' });
    const viewerB = wsClient(urlB, { sessionToken });
    try {
      let ended: string | null = null;
      let streaming = false;
      viewerB.client.commands.output.subscribe({ id: command.id }, {
        onData: () => void (streaming = true),
        onError: (error) => void (ended = (error.data as { code?: string } | undefined)?.code ?? 'ERROR'),
      });
      await until(() => streaming, 10_000, 20);
      const loggedOut = Date.now();
      await httpClient(urlA, { authorization: `Bearer ${sessionToken}` }).auth.logout.mutate();
      await until(() => ended !== null, 5_000, 20);
      console.info(`stream on B ended ${Date.now() - loggedOut} ms after the logout on A started`);
      expect(ended).toBe('UNAUTHORIZED');
    } finally {
      await viewerB.close();
    }
  });

  it('runs a bulk job on BullMQ with both instances as workers', async () => {
    const job = await technicianB().jobs.create.mutate({ deviceIds: [device.deviceId], script: 'echo bulk', retries: 1 });
    await until(async () => (await technicianB().jobs.status.query({ id: job.id })).status === 'completed', 30_000, 200);
    const status = await technicianB().jobs.status.query({ id: job.id });
    expect(status.targets[0]).toMatchObject({ status: 'succeeded', exitCode: 0 });
  });

  // With MONGODB_URL the audit log lives in MongoDB; this reads the relational one.
  it.skipIf(Boolean(process.env.MONGODB_URL))('audits every command in the organization', async () => {
    const list = await tenant.technician.commands.list.query({ limit: 200 });
    // Entries are written after each command commits, through the documents store.
    await until(async () => {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: database!.url });
      await client.connect();
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM audit_log WHERE organization_id = $1 AND action = 'command.run'`, [tenant.orgId]);
      await client.end();
      return rows[0].n === list.items.length;
    }, 10_000, 200);
  });
}, 240_000);
