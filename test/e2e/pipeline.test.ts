import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRelationalStore, type RelationalStore } from '@ninjait/server';
import { createScratchDatabase, dropRedisKeys } from '@ninjait/server/testing';
import { readOutboxStats, resolvePaths } from '@ninjait/agent';
import { AGENT_CLI, SERVER_CLI, freePort, runCli, startCli, stopAgentCaughtUp, waitFor, waitForHttp, type Proc } from '../support/processes.ts';

const KEY_PREFIX = `e2e:${process.pid}:${Date.now()}:`;

/**
 * The whole slice through real processes: a server, the CLI, and a real agent collecting
 * this machine's metrics at 1 s. Survives an agent kill -9 and a 10 s server outage with
 * every sequence number arriving exactly once.
 */
describe('agent → server → stores, end to end', () => {
  let dir: string;
  let database: Awaited<ReturnType<typeof createScratchDatabase>>;
  let serverEnv: Record<string, string>;
  let server: Proc | undefined;
  let agent: Proc | undefined;
  const agentDir = () => join(dir, 'agent');
  const cliFlags = () => ['--server', `http://127.0.0.1:${serverEnv.PORT}`, '--data-dir', serverEnv.DATA_DIR!];

  const startServer = async () => {
    server = startCli(SERVER_CLI, ['serve'], serverEnv);
    await waitForHttp(`http://127.0.0.1:${serverEnv.PORT}/readyz`).catch((error: Error) => {
      throw new Error(`${error.message}\n${server?.output()}`);
    });
  };
  const startAgent = () => {
    agent = startCli(AGENT_CLI, ['run', '--data-dir', agentDir(), '--interval-ms', '1000']);
  };
  const agentStatus = async () => JSON.parse(await runCli(AGENT_CLI, ['status', '--json', '--data-dir', agentDir()])) as {
    deviceId: string; outbox: { bufferedRecords: number; droppedTotal: number; nextSeq: number };
  };
  const devices = async () => JSON.parse(await runCli(SERVER_CLI, ['devices', '--org', 'E2E', '--json', ...cliFlags()])) as {
    id: string; status: string; latest: { seq: number; cpu: { loadPercent: number }; memory: { totalBytes: number } } | null;
  }[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-e2e-'));
    database = await createScratchDatabase();
    if (!database) console.warn('DATABASE_URL is not set: the end-to-end test runs on PGlite');
    serverEnv = {
      PORT: String(await freePort()), DATA_DIR: join(dir, 'server'), AGENT_INTERVAL_MS: '1000',
      INGEST_LOG_RETENTION_SEC: '3600', LOG_LEVEL: 'warn',
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL, REDIS_KEY_PREFIX: KEY_PREFIX, QUEUE_PREFIX: `${KEY_PREFIX}q` } : {}),
    };
    await startServer();
  }, 150_000);
  afterAll(async () => {
    await agent?.kill('SIGKILL');
    await server?.kill('SIGKILL');
    await database?.drop();
    if (process.env.REDIS_URL) await dropRedisKeys(process.env.REDIS_URL, [`${KEY_PREFIX}*`]);
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('enrolls a real agent with a CLI token and its real samples reach PostgreSQL and the cache', async () => {
    await runCli(SERVER_CLI, ['org', 'create', 'E2E', ...cliFlags()]);
    const token = (await runCli(SERVER_CLI, ['token', 'create', '--org', 'E2E', ...cliFlags()])).trim();
    expect(token).toMatch(/^nit_/);
    await runCli(AGENT_CLI, ['enroll', '--server', `http://127.0.0.1:${serverEnv.PORT}`, '--token', token, '--data-dir', agentDir()]);
    startAgent();
    const [device] = await waitFor('the device to report', async () => {
      const list = await devices();
      return list[0]?.latest && list[0].latest.seq >= 3 ? list : null;
    });
    expect(device!.status).toBe('online');
    expect(device!.latest!.memory.totalBytes).toBeGreaterThan(0);
    expect(device!.latest!.cpu.loadPercent).toBeGreaterThanOrEqual(0);
  }, 90_000);

  it('loses nothing and doubles nothing across an agent kill -9', async () => {
    await new Promise((done) => setTimeout(done, 1_500));
    expect(await agent!.kill('SIGKILL')).toBe('SIGKILL');
    startAgent();
    const before = (await agentStatus()).outbox.nextSeq;
    await waitFor('new samples after the restart', async () => ((await devices())[0]?.latest?.seq ?? 0) >= before + 1, 30_000);
  }, 60_000);

  it('keeps collecting through a 10 s server outage and delivers everything once', async () => {
    await server!.kill('SIGTERM');
    const offlineFrom = (await agentStatus()).outbox.nextSeq;
    await new Promise((done) => setTimeout(done, 10_000));
    const buffered = await agentStatus();
    expect(buffered.outbox.nextSeq).toBeGreaterThan(offlineFrom + 5);
    expect(buffered.outbox.bufferedRecords).toBeGreaterThan(5);
    await startServer();
    await waitFor('the backlog to drain', async () => (await agentStatus()).outbox.bufferedRecords === 0, 30_000);
  }, 90_000);

  it('has every sequence number exactly once in the ingest log', async () => {
    // The outbox read in process while the agent runs: the CLI takes seconds to start.
    const buffered = () => readOutboxStats(resolvePaths({ dataDir: agentDir() }).outboxFile)?.bufferedRecords ?? Infinity;
    const allowed = await stopAgentCaughtUp(agent!, buffered, 1000);
    const status = await agentStatus();
    expect(status.outbox.droppedTotal).toBe(0);
    expect(status.outbox.bufferedRecords).toBeLessThanOrEqual(allowed);
    await server!.kill('SIGTERM');
    const db: RelationalStore = await openRelationalStore({ databaseUrl: database?.url, dataDir: join(serverEnv.DATA_DIR!, 'pglite') });
    try {
      const { rows } = await db.query<{ seq: number }>('SELECT seq FROM ingest_log WHERE device_id = $1 ORDER BY seq', [status.deviceId]);
      const seqs = rows.map((row) => Number(row.seq));
      // 1 .. last, each once. What is still in the outbox came last and may be logged already
      // (its ack lost in the stop) or not yet; everything before it must be.
      const last = seqs.at(-1) ?? 0;
      expect(last).toBeGreaterThanOrEqual(status.outbox.nextSeq - 1 - status.outbox.bufferedRecords);
      expect(last).toBeLessThanOrEqual(status.outbox.nextSeq - 1);
      expect(seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
      const { rows: state } = await db.query<{ lastSeq: number }>('SELECT last_seq AS "lastSeq" FROM device_ingest_state WHERE device_id = $1', [status.deviceId]);
      expect(Number(state[0]!.lastSeq)).toBe(last);
    } finally {
      await db.close();
    }
  }, 60_000);
});
