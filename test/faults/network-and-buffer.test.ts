import { statSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOutbox, resolvePaths, collectSample } from '@ninjait/agent';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/processes.ts';
import { newServer, report, sleep, startStack, step, type AgentProcess, type ServerProcess, type Stack } from './lib/stack.ts';
import { enrollAgents, finish, stopAgent } from './lib/scenario.ts';
import { skipFaultFile } from './lib/requirements.ts';

/** Outage lengths (the 2 minutes and "long outage", shortened; see RELIABILITY.md). */
const BLACKHOLE_MS = 15_000;
const RESET_MS = 10_000;
const BUFFER_MAX_MB = 1;
/** The part of the buffer-full outage written ahead into the outbox: 2,500 samples, ~42 h at the default 60 s interval. */
const PREFILLED = 2_500;
const BUFFER_OUTAGE_MS = 15_000;
/** The outbox file, its WAL and shared-memory index together stay under --buffer-max-mb. */
const DISK_OVER_CAP_ALLOWED = 1.0;
/** Records the agent may count as dropped although they arrived: none since the outbox un-counts what an ack covers. */
const KNOWN_DROP_OVERCOUNT_MAX = 0;

/**
 * The network between agent and server fails: a TCP proxy first blackholes (sockets open,
 * nothing forwarded), then resets every connection; then the route comes back. And an agent
 * whose outage outlasts its buffer: the disk stays under the cap, the oldest go first, the
 * drops are counted exactly and reported to the server.
 */
describe.skipIf(skipFaultFile('network-and-buffer'))('fault: network cut and full agent buffer', () => {
  let stack: Stack;
  let server: ServerProcess;
  let databaseUrl: string;
  let cutProxy: TcpProxy;
  let bufferProxy: TcpProxy;
  let cutAgent: AgentProcess;
  let bufferAgent: AgentProcess;

  const deviceRow = async (deviceId: string) => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ lastSeq: string; dropped: string }>(
        `SELECT s.last_seq AS "lastSeq", d.dropped_total AS dropped FROM devices d JOIN device_ingest_state s ON s.device_id = d.id WHERE d.id = $1`, [deviceId]);
      return { lastSeq: Number(rows[0]?.lastSeq ?? 0), dropped: Number(rows[0]?.dropped ?? 0) };
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    stack = await startStack();
    ({ server, databaseUrl } = await newServer(stack));
    await server.start();
    [cutProxy, bufferProxy] = await Promise.all([startTcpProxy([server.port]), startTcpProxy([server.port])]);
    const [cut, buffer] = await Promise.all([
      enrollAgents(stack, server, cutProxy.url, 1, 'cut'),
      enrollAgents(stack, server, bufferProxy.url, 1, 'buffer', ['--buffer-max-mb', String(BUFFER_MAX_MB)]),
    ]);
    cutAgent = cut[0]!;
    bufferAgent = buffer[0]!;
  }, 180_000);
  afterAll(async () => {
    await cutAgent?.kill('SIGKILL');
    await bufferAgent?.kill('SIGKILL');
    await server?.kill('SIGKILL');
    await cutProxy?.close();
    await bufferProxy?.close();
    await stack?.close();
  });

  it('delivers everything once after a blackhole then a reset of the route, and an over-full buffer keeps the newest', async () => {
    // The buffer agent's outage began long ago: its first part is written ahead by the agent's own outbox code.
    const paths = resolvePaths({ dataDir: bufferAgent.dataDir });
    const shape = await collectSample();
    const outbox = openOutbox({ file: paths.outboxFile, bufferMaxMb: BUFFER_MAX_MB });
    const now = Date.now();
    let prefillDropped = 0;
    for (let i = 0; i < PREFILLED; i += 250) {
      const results = outbox.appendMany(Array.from({ length: 250 }, (_, k) => ({
        kind: 'sample' as const, collectedAt: now - (PREFILLED - i - k) * 60_000 - BUFFER_OUTAGE_MS, sample: { ...shape, uptimeSec: shape.uptimeSec + i + k },
      })));
      prefillDropped += results.reduce((sum, result) => sum + result.dropped, 0);
    }
    outbox.close();
    bufferProxy.setMode('reset');

    step('agents start; the buffer agent cannot reach the server');
    cutAgent.start();
    bufferAgent.start();
    const { deviceId } = await cutAgent.status();
    await waitFor('the cut agent to report', async () => (await deviceRow(deviceId)).lastSeq >= 3, 60_000);

    step('blackhole');
    const cutFrom = (await cutAgent.status()).outbox.nextSeq;
    cutProxy.setMode('blackhole');
    await sleep(BLACKHOLE_MS);
    step('reset');
    cutProxy.setMode('reset');
    await sleep(RESET_MS);
    const duringCut = await cutAgent.status();
    expect(duringCut.outbox.nextSeq - cutFrom).toBeGreaterThanOrEqual(20);
    expect(duringCut.outbox.bufferedRecords).toBeGreaterThanOrEqual(20);
    step('route back');
    const restoredAt = Date.now();
    cutProxy.setMode('forward');
    await waitFor('the cut agent to deliver its backlog', async () => (await deviceRow(deviceId)).lastSeq >= duringCut.outbox.nextSeq - 1, 90_000, 100);
    const cutRecoveryMs = Date.now() - restoredAt;

    step('buffer agent: outage over, measuring the disk');
    const files = [paths.outboxFile, `${paths.outboxFile}-wal`, `${paths.outboxFile}-shm`];
    const diskBytes = () => files.reduce((sum, file) => sum + (statSync(file, { throwIfNoEntry: false })?.size ?? 0), 0);
    let maxDiskBytes = 0;
    const outageEnd = Date.now() + BUFFER_OUTAGE_MS;
    while (Date.now() < outageEnd) {
      maxDiskBytes = Math.max(maxDiskBytes, diskBytes());
      await sleep(250);
    }
    const full = await bufferAgent.status();
    const capBytes = BUFFER_MAX_MB * 1024 * 1024;
    expect(full.outbox.bufferedBytes).toBeLessThanOrEqual(capBytes);
    expect(maxDiskBytes).toBeLessThanOrEqual(capBytes * DISK_OVER_CAP_ALLOWED);
    expect(full.outbox.droppedTotal).toBeGreaterThan(prefillDropped);
    expect(prefillDropped).toBeGreaterThan(0);
    const bufferRestoredAt = Date.now();
    bufferProxy.setMode('forward');
    const bufferDeviceId = full.deviceId;
    await waitFor('the buffer agent to deliver what it kept and report its drops', async () => {
      const row = await deviceRow(bufferDeviceId);
      const status = await bufferAgent.status();
      return row.lastSeq >= full.outbox.nextSeq - 1 && row.dropped === status.outbox.droppedTotal;
    }, 90_000, 200).catch(async (error: Error) => {
      throw new Error(`${error.message}\nserver: ${JSON.stringify(await deviceRow(bufferDeviceId))} agent: ${JSON.stringify(await bufferAgent.status())}\n${bufferAgent.proc?.output().slice(-3000)}`);
    });
    const bufferRecoveryMs = Date.now() - bufferRestoredAt;
    await sleep(2_000);

    step('verify');
    const [cutCollected, bufferCollected] = await Promise.all([stopAgent(cutAgent), stopAgent(bufferAgent)]);
    const droppedMetric = await server.metric('ninjait_agent_dropped_records_total');
    expect(droppedMetric).toBe(bufferCollected.droppedTotal);
    expect((await deviceRow(bufferDeviceId)).dropped).toBe(bufferCollected.droppedTotal);
    // What is missing from the store must be the oldest, 1..M. The agent's count can exceed M: a record
    // dropped by the cap while it was inside an in-flight push still arrives (known bug, RELIABILITY.md finding 2).
    const firstStored = await (async () => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ s: string }>('SELECT min(seq) AS s FROM ingest_log WHERE device_id = $1', [bufferDeviceId]);
        return Number(rows[0]?.s);
      } finally {
        await client.end();
      }
    })();
    const missing = firstStored - 1;
    const overcount = bufferCollected.droppedTotal - missing;
    expect(overcount).toBeGreaterThanOrEqual(0);
    expect(overcount).toBeLessThanOrEqual(KNOWN_DROP_OVERCOUNT_MAX);
    const result = await finish(stack, server, databaseUrl, [cutCollected, { ...bufferCollected, droppedTotal: missing }]);
    const cut = result.perDevice.get(deviceId)!;
    const buffer = result.perDevice.get(bufferDeviceId)!;
    expect(cut.dropped).toBe(0);
    // The newest survive: what is stored is the tail, seq droppedTotal+1 .. the last one collected.
    expect(buffer.ingestLog).toBe(buffer.collected - missing);
    report('network-cut', {
      blackholeMs: BLACKHOLE_MS, resetMs: RESET_MS, collected: cut.collected, ingestLog: cut.ingestLog, clickhouse: cut.clickhouse,
      samples: cut.samples, cacheSeq: cut.cacheSeq, backlogAtRestore: duringCut.outbox.bufferedRecords, recoveryMs: cutRecoveryMs,
      proxyConnections: cutProxy.accepted,
    });
    report('agent-buffer-full', {
      capBytes, maxDiskBytes, bufferedBytesAtEnd: full.outbox.bufferedBytes, prefilled: PREFILLED, liveOutageMs: BUFFER_OUTAGE_MS,
      collected: buffer.collected, dropped: buffer.dropped, stored: buffer.ingestLog, clickhouse: buffer.clickhouse, samples: buffer.samples,
      agentDroppedTotal: bufferCollected.droppedTotal, missingFromStore: missing, dropOvercount: overcount, droppedMetric, recoveryMs: bufferRecoveryMs, diskOverCapRatio: +(maxDiskBytes / capBytes).toFixed(2),
    });
  }, 240_000);
});
