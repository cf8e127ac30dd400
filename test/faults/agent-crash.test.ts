import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/processes.ts';
import { newServer, report, sleep, startStack, step, type AgentProcess, type ServerProcess, type Stack } from './lib/stack.ts';
import { enrollAgents, finish, stopAgent } from './lib/scenario.ts';
import { skipFaultFile } from './lib/requirements.ts';

/**
 * The agent dies: kill -9 while a push is on the wire (its ack lost; its frame torn in half), and
 * a machine "reboot" (kill -9, 5 s down, start again from the same data dir). Every sequence
 * number collected must reach every store exactly once.
 */
describe.skipIf(skipFaultFile('agent-crash'))('fault: agent kill -9 and reboot', () => {
  let stack: Stack;
  let server: ServerProcess;
  let databaseUrl: string;
  let proxy: TcpProxy;
  let agent: AgentProcess;

  const lastLogged = async (deviceId: string) => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ s: string }>('SELECT last_seq AS s FROM device_ingest_state WHERE device_id = $1', [deviceId]);
      return Number(rows[0]?.s ?? 0);
    } finally {
      await client.end();
    }
  };

  /** Arms the proxy: the next push-sized frame from the agent triggers `onPush` (which decides what gets through). */
  const onNextPush = (onPush: (chunk: Buffer, pair: Parameters<NonNullable<TcpProxy['tap']>>[2]) => 'hold' | void) =>
    new Promise<void>((resolve) => {
      proxy.tap = (direction, chunk, pair) => {
        if (process.env.FAULTS_DEBUG) step(`proxy ${direction} ${chunk.length} bytes`);
        // Client frames are masked; a push (≥ 1 sample, ~700 B here) is far larger than a heartbeat (~190 B) or a ping.
        if (direction !== 'up' || chunk.length < 500) return;
        proxy.tap = null;
        const verdict = onPush(chunk, pair);
        resolve();
        return verdict;
      };
    });

  beforeAll(async () => {
    stack = await startStack();
    ({ server, databaseUrl } = await newServer(stack));
    await server.start();
    proxy = await startTcpProxy([server.port]);
    agent = (await enrollAgents(stack, server, proxy.url, 1, 'crash'))[0]!;
  }, 180_000);
  afterAll(async () => {
    await agent?.kill('SIGKILL');
    await server?.kill('SIGKILL');
    await proxy?.close();
    await stack?.close();
  });

  it('loses and doubles nothing across kill -9 mid-push (ack lost, frame torn) and a reboot', async () => {
    agent.start();
    await waitFor('first samples logged', async () => (await lastLogged((await agent.status()).deviceId)) >= 3, 60_000);
    const { deviceId } = await agent.status();

    step('1. ack lost');
    // 1. The push reaches the server and is logged; its ack never comes back; the agent dies.
    let pushedAt = 0;
    await onNextPush((_chunk, pair) => {
      pair.holding.down = true;
      pushedAt = Date.now();
    });
    await waitFor('the held push to be logged', async () => {
      const status = await agent.status();
      return (await lastLogged(deviceId)) >= status.outbox.nextSeq - status.outbox.bufferedRecords;
    }, 10_000, 50);
    expect(await agent.kill('SIGKILL')).toBe('SIGKILL');
    const afterAckLost = await agent.status();
    const loggedButUnacked = (await lastLogged(deviceId)) - (afterAckLost.outbox.nextSeq - afterAckLost.outbox.bufferedRecords) + 1;
    expect(loggedButUnacked).toBeGreaterThanOrEqual(1);
    agent.start();
    await agent.drained(30_000);

    step('2. torn frame');
    // 2. Half the push frame reaches the server, then the agent dies.
    await onNextPush((chunk, pair) => {
      pair.upstream?.write(chunk.subarray(0, Math.floor(chunk.length / 2)));
      return 'hold';
    });
    const before = await lastLogged(deviceId);
    expect(await agent.kill('SIGKILL')).toBe('SIGKILL');
    const afterTorn = await agent.status();
    expect(await lastLogged(deviceId)).toBe(before);
    expect(afterTorn.outbox.bufferedRecords).toBeGreaterThanOrEqual(1);
    agent.start();
    await agent.drained(30_000);

    step('3. reboot');
    // 3. Reboot: kill -9, 5 s with the machine down, start from the same data dir.
    await sleep(2_000);
    expect(await agent.kill('SIGKILL')).toBe('SIGKILL');
    const downFrom = await agent.status();
    await sleep(5_000);
    const restartedAt = Date.now();
    agent.start();
    const back = await waitFor('samples after the reboot', async () => {
      const status = await agent.status();
      return (await lastLogged(deviceId)) >= downFrom.outbox.nextSeq ? status : null;
    }, 30_000);
    const recoveryMs = Date.now() - restartedAt;
    expect(back.outbox.nextSeq).toBeGreaterThan(downFrom.outbox.nextSeq);
    await sleep(3_000);

    step('verify');
    const collected = await stopAgent(agent);
    const result = await finish(stack, server, databaseUrl, [collected]);
    const figures = result.perDevice.get(deviceId)!;
    expect(figures.dropped).toBe(0);
    report('agent-kill-9-and-reboot', {
      ...result.totals, replayedAfterAckLost: loggedButUnacked, tornPushRecords: afterTorn.outbox.bufferedRecords,
      ackHeldAt: new Date(pushedAt).toISOString(), rebootDownMs: 5_000, firstSampleAfterRebootMs: recoveryMs, stillBuffered: collected.buffered,
    });
  }, 150_000);
});
