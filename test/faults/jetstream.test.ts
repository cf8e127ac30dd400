import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { waitFor } from '../support/processes.ts';
import { findExecutable } from '../support/executables.ts';
import { startPrivateNats, type PrivateNats } from '../support/private-stores.ts';
import { INTERVAL_MS, newServer, report, sleep, startStack, step, type ServerProcess, type Stack } from './lib/stack.ts';
import { startSimFleet } from './lib/sim-agents.ts';
import { skipFaultFile } from './lib/requirements.ts';
import { totals, verifyStores } from './lib/verify.ts';
import { addAuditConsumer, readStream, waitForJetStreamDrainers } from './lib/jetstream.ts';

const STREAM = 'FAULTS_INGEST';
const SINKS = ['relational', 'cache', 'clickhouse'];

function skipWithoutNats(): boolean {
  if (findExecutable('nats-server')) return false;
  console.warn('fault suite: skipping "jetstream": nats-server is not installed (apt-get install nats-server)');
  return true;
}

/**
 * The ingest log on NATS JetStream (a private nats-server): three server instances on one
 * PostgreSQL, Redis, ClickHouse and NATS behind a TCP balancer. Instance A is killed -9, then
 * nats-server itself is restarted; every sample the agents collected must be in the stream once
 * and in every store once.
 */
describe.skipIf(skipFaultFile('jetstream') || skipWithoutNats())('fault: JetStream log, one of three instances killed, NATS restarted', () => {
  let stack: Stack;
  let nats: PrivateNats;
  const servers: ServerProcess[] = [];
  let databaseUrl: string;
  let lb: TcpProxy;
  let fleet: Awaited<ReturnType<typeof startSimFleet>> | undefined;

  beforeAll(async () => {
    stack = await startStack({ clickhouse: true });
    nats = await startPrivateNats(`${stack.dir}/nats`);
    const env = { INGEST_LOG_URL: nats.url, INGEST_LOG_STREAM: STREAM };
    const first = await newServer(stack, { name: 'instance-a', env: { ...env, INSTANCE_ID: 'instance-a' } });
    databaseUrl = first.databaseUrl;
    servers.push(first.server);
    await first.server.start();
    // The first instance made the stream; the audit consumer keeps every record from here on.
    await addAuditConsumer(nats.url, STREAM);
    for (const name of ['instance-b', 'instance-c']) {
      const next = (await newServer(stack, { database: first.database, name, env: { ...env, INSTANCE_ID: name } })).server;
      await next.start();
      servers.push(next);
    }
    lb = await startTcpProxy(servers.map((server) => server.port));
    lb.balance = 'round-robin';
  }, 600_000);
  afterAll(async () => {
    fleet?.close();
    await Promise.all(servers.map((server) => server.kill('SIGKILL')));
    await lb?.close();
    await nats?.kill('SIGKILL');
    await stack?.close();
  });

  it('loses nothing and doubles nothing', async () => {
    try {
      await scenario();
    } catch (error) {
      // What the servers said is what explains a failure here.
      for (const server of servers) console.error(`--- ${server.url}\n${server.proc?.output().slice(-4_000) ?? ''}`);
      throw error;
    }
  }, 900_000);

  async function scenario() {
    const [a, b] = [servers[0]!, servers[1]!];
    fleet = await startSimFleet(20, lb.url, await a.enrollmentToken('JetStreamFleet'), INTERVAL_MS);
    await waitFor('every simulated agent to report', async () => fleet!.agents.every((sim) => sim.collected().nextSeq > 3 && sim.buffered <= 1), 240_000);

    step('kill -9 instance A');
    expect(await a.kill('SIGKILL')).toBe('SIGKILL');
    const atKill = fleet.agents.map((sim) => sim.collected().nextSeq);
    await waitFor('every agent to deliver through B and C', async () =>
      fleet!.agents.every((sim, i) => sim.buffered <= 1 && sim.collected().nextSeq >= atKill[i]! + 4), 240_000, 200);

    step('restart nats-server');
    await nats.kill('SIGTERM');
    const downAt = Date.now();
    await sleep(3_000);
    await nats.start();
    const atRestart = fleet.agents.map((sim) => sim.collected().nextSeq);
    await waitFor('every agent to deliver after NATS came back', async () =>
      fleet!.agents.every((sim, i) => sim.buffered <= 1 && sim.collected().nextSeq >= atRestart[i]! + 4), 240_000, 200);
    const recoveredMs = Date.now() - downAt;

    step('verify');
    const simulated = await fleet.stopAndDrain();
    await waitForJetStreamDrainers(nats.url, STREAM, SINKS);
    for (const server of servers.slice(1)) await server.kill('SIGTERM');
    const log = await readStream(nats.url, STREAM);
    const figures = await verifyStores({
      databaseUrl, redisUrl: stack.redis.url, analytics: { url: stack.clickhouse!.url },
      logRows: async (deviceId) => log.get(deviceId) ?? [],
    }, simulated);
    const sum = totals(figures);
    expect(sum.dropped).toBe(0);
    report('jetstream-three-instances-one-killed-nats-restarted', { ...sum, natsDownMs: 3_000, allDeliveredAfterNatsRestartMs: recoveredMs, survivor: b.url });
  }
});
