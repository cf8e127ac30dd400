import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/processes.ts';
import { INTERVAL_MS, newServer, report, sleep, startStack, step, type AgentProcess, type ServerProcess, type Stack } from './lib/stack.ts';
import { enrollAgents, finish, stopAgent } from './lib/scenario.ts';
import { startSimFleet } from './lib/sim-agents.ts';
import { skipFaultFile } from './lib/requirements.ts';

/**
 * Two server instances on the same PostgreSQL, Redis and ClickHouse, behind a TCP load balancer
 * (round-robin; a refused upstream is skipped). Instance A is killed -9: its agents reconnect
 * through the balancer to B, B's drainers take A's leases over, and nothing is lost or doubled.
 */
describe.skipIf(skipFaultFile('failover'))('fault: one of two server instances killed', () => {
  let stack: Stack;
  let a: ServerProcess;
  let b: ServerProcess;
  let databaseUrl: string;
  let lb: TcpProxy;
  let agents: AgentProcess[] = [];
  let fleet: Awaited<ReturnType<typeof startSimFleet>> | undefined;

  beforeAll(async () => {
    stack = await startStack({ clickhouse: true });
    const first = await newServer(stack, { name: 'instance-a', env: { INSTANCE_ID: 'instance-a' } });
    a = first.server;
    databaseUrl = first.databaseUrl;
    await a.start();
    b = (await newServer(stack, { database: first.database, name: 'instance-b', env: { INSTANCE_ID: 'instance-b' } })).server;
    await b.start();
    lb = await startTcpProxy([a.port, b.port]);
    lb.balance = 'round-robin';
    agents = await enrollAgents(stack, a, lb.url, 3, 'failover');
  }, 180_000);
  afterAll(async () => {
    fleet?.close();
    await Promise.all(agents.map((agent) => agent.kill('SIGKILL')));
    await a?.kill('SIGKILL');
    await b?.kill('SIGKILL');
    await lb?.close();
    await stack?.close();
  });

  it('moves A\'s agents and drainers to B and loses nothing', async () => {
    fleet = await startSimFleet(20, lb.url, await a.enrollmentToken('FailoverFleet'), INTERVAL_MS);
    for (const agent of agents) agent.start();
    await waitFor('everyone to report', async () => {
      const statuses = await Promise.all(agents.map((agent) => agent.status()));
      return fleet!.agents.every((sim) => sim.buffered <= 1) && statuses.every((s) => s.outbox.nextSeq > 3 && s.outbox.bufferedRecords <= 1);
    }, 60_000);
    await sleep(3_000);
    const onA = [...lb.pairs].filter((pair) => pair.upstream?.remotePort === a.port).length;
    const onB = [...lb.pairs].filter((pair) => pair.upstream?.remotePort === b.port).length;
    expect(onA).toBeGreaterThan(0);

    step('kill -9 instance A');
    expect(await a.kill('SIGKILL')).toBe('SIGKILL');
    const killedAt = Date.now();
    const simSeqAtKill = fleet.agents.map((sim) => sim.collected().nextSeq);
    const realSeqAtKill = (await Promise.all(agents.map((agent) => agent.status()))).map((s) => s.outbox.nextSeq);
    // Delivered through B: everything up to 3 samples past the kill is acked, for every agent.
    await waitFor('every agent to deliver through B', async () => {
      const statuses = await Promise.all(agents.map((agent) => agent.status()));
      return fleet!.agents.every((sim, i) => sim.buffered <= 1 && sim.collected().nextSeq >= simSeqAtKill[i]! + 4)
        && statuses.every((s, i) => s.outbox.bufferedRecords <= 1 && s.outbox.nextSeq >= realSeqAtKill[i]! + 4);
    }, 90_000, 200);
    const reconnectMs = Date.now() - killedAt;
    await sleep(3_000);
    const afterKill = [...lb.pairs].filter((pair) => pair.upstream?.remotePort === b.port).length;
    expect(afterKill).toBe(lb.pairs.size);

    step('verify');
    const simulated = await fleet.stopAndDrain();
    const real = await Promise.all(agents.map(stopAgent));
    const result = await finish(stack, b, databaseUrl, [...real, ...simulated]);
    expect(result.totals.dropped).toBe(0);
    report('two-instances-one-killed', {
      ...result.totals, connectionsOnA: onA, connectionsOnB: onB, connectionsOnBAfter: afterKill, allDeliveredAfterKillMs: reconnectMs,
      drainerLeaseMs: 15_000,
    });
  }, 240_000);
});
