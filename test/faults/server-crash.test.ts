import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/processes.ts';
import { INTERVAL_MS, newServer, report, sleep, startStack, step, type AgentProcess, type ServerProcess, type Stack } from './lib/stack.ts';
import { enrollAgents, finish, stopAgent } from './lib/scenario.ts';
import { startSimFleet } from './lib/sim-agents.ts';
import { skipFaultFile } from './lib/requirements.ts';

const REAL_AGENTS = 3;
const SIMULATED_AGENTS = 97;

/**
 * The server dies under 100 reporting agents (3 real agent processes, 97 simulated ones with the
 * same delivery rules): kill -9 while pushes are in flight, then a clean restart. Every agent's
 * every sample must be in every store exactly once.
 */
describe.skipIf(skipFaultFile('server-crash'))('fault: server kill -9 mid-ingest and restart under 100 agents', () => {
  let stack: Stack;
  let server: ServerProcess;
  let databaseUrl: string;
  let agents: AgentProcess[] = [];
  let fleet: Awaited<ReturnType<typeof startSimFleet>> | undefined;

  beforeAll(async () => {
    stack = await startStack();
    ({ server, databaseUrl } = await newServer(stack));
    await server.start();
    agents = await enrollAgents(stack, server, server.url, REAL_AGENTS, 'crash-server');
  }, 180_000);
  afterAll(async () => {
    fleet?.close();
    await Promise.all(agents.map((agent) => agent.kill('SIGKILL')));
    await server?.kill('SIGKILL');
    await stack?.close();
  });

  it('loses and doubles nothing from 100 agents across a kill -9 and a restart', async () => {
    const token = await server.enrollmentToken('Fleet');
    fleet = await startSimFleet(SIMULATED_AGENTS, server.url, token, INTERVAL_MS);
    for (const agent of agents) agent.start();
    await waitFor('every simulated agent to deliver', async () => fleet!.agents.every((sim) => sim.buffered <= 1), 60_000);
    await sleep(5_000);

    step('kill -9 mid-ingest');
    // Pushes arrive every second from 100 agents: catch a moment with several on the wire.
    const inFlight = await waitFor('pushes in flight', async () => {
      const n = fleet!.agents.filter((sim) => sim.pushingNow).length;
      return n >= 3 ? n : null;
    }, 10_000, 5);
    expect(await server.kill('SIGKILL')).toBe('SIGKILL');
    const killedAt = Date.now();
    const downMs = 5_000;
    await sleep(downMs);
    const startMs = await server.start();
    await waitFor('the fleet to catch up after the crash', async () => fleet!.agents.every((sim) => sim.buffered <= 1), 90_000, 200);
    await Promise.all(agents.map((agent) => agent.drained(60_000)));
    const crashRecoveryMs = Date.now() - killedAt;

    step('clean restart');
    await server.kill('SIGTERM');
    const stoppedAt = Date.now();
    const restartMs = await server.start();
    await waitFor('the fleet to catch up after the restart', async () => fleet!.agents.every((sim) => sim.buffered <= 1), 90_000, 200);
    await Promise.all(agents.map((agent) => agent.drained(60_000)));
    const restartRecoveryMs = Date.now() - stoppedAt;

    step('verify');
    const simulated = await fleet.stopAndDrain();
    const real = await Promise.all(agents.map(stopAgent));
    const result = await finish(stack, server, databaseUrl, [...real, ...simulated]);
    expect(result.totals.devices).toBe(REAL_AGENTS + SIMULATED_AGENTS);
    expect(result.totals.dropped).toBe(0);
    report('server-kill-9-and-restart-100-agents', {
      ...result.totals, pushesInFlightAtKill: inFlight, killDownMs: downMs, serverStartMs: startMs, crashRecoveryMs,
      restartStartMs: restartMs, restartRecoveryMs,
      simReconnects: fleet.agents.reduce((sum, sim) => sum + sim.reconnects, 0),
      simPushErrors: fleet.agents.reduce((sum, sim) => sum + sim.pushErrors, 0),
    });
  }, 300_000);
});
