import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/processes.ts';
import { INTERVAL_MS, newServer, report, sleep, startStack, step, type AgentProcess, type ServerProcess, type Stack } from './lib/stack.ts';
import { enrollAgents, finish, stopAgent } from './lib/scenario.ts';
import { startSimFleet } from './lib/sim-agents.ts';
import { skipFaultFile, victoriaMetricsAvailable } from './lib/requirements.ts';

/** The 60 s outages, shortened: each store is down this long while agents keep reporting every second. */
const OUTAGE_MS = { postgres: 15_000, redis: 15_000, clickhouse: 20_000, victoria: 20_000 };

/** Without the victoria-metrics program the Influx sink is not configured and its outage is skipped (said once). */
const withVictoria = victoriaMetricsAvailable('store-outages');

/**
 * Each store goes away under load and comes back: PostgreSQL (crash-stop, then start), Redis
 * (killed: it comes back empty), ClickHouse and VictoriaMetrics (killed, restarted on their
 * data). Agents keep collecting throughout; afterwards every store holds every sample once.
 */
describe.skipIf(skipFaultFile('store-outages'))('fault: PostgreSQL, Redis, ClickHouse and VictoriaMetrics outages', () => {
  let stack: Stack;
  let server: ServerProcess;
  let databaseUrl: string;
  let agents: AgentProcess[] = [];
  let fleet: Awaited<ReturnType<typeof startSimFleet>> | undefined;

  const cursors = async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows: [end] } = await client.query<{ max: string }>('SELECT coalesce(max(id), 0) AS max FROM ingest_log');
      const { rows } = await client.query<{ sink: string; position: string }>('SELECT sink, position FROM drain_cursors');
      return { end: Number(end!.max), lag: Object.fromEntries(rows.map((row) => [row.sink, Number(end!.max) - Number(row.position)])) };
    } finally {
      await client.end();
    }
  };
  const allDelivered = () => waitFor('every agent to deliver its backlog', async () => {
    if (!fleet!.agents.every((sim) => sim.buffered <= 1)) return false;
    const statuses = await Promise.all(agents.map((agent) => agent.status()));
    return statuses.every((status) => status.outbox.bufferedRecords <= 1);
  }, 120_000, 200).catch(async (error: Error) => {
    const stuck = fleet!.agents.filter((sim) => sim.buffered > 1).map((sim) => ({ buffered: sim.buffered, errors: sim.pushErrors, last: sim.lastError }));
    const statuses = await Promise.all(agents.map((agent) => agent.status()));
    throw new Error(`${error.message}\nsimulated: ${JSON.stringify(stuck.slice(0, 5))} (${stuck.length} stuck)\nreal: ${JSON.stringify(statuses)}\n`
      + `${agents.map((agent) => agent.proc?.output().slice(-1500)).join('\n---\n')}\nserver: ${server.proc?.output().slice(-3000)}`);
  });
  const quarantined = async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM ingest_quarantine')).rows[0]!.n;
    } finally {
      await client.end();
    }
  };
  const sinkCaughtUp = (sink: string) => waitFor(`${sink} to catch up`, async () => ((await cursors()).lag[sink] ?? 1) <= 0 || null, 120_000, 200);

  beforeAll(async () => {
    stack = await startStack({ clickhouse: true, victoria: withVictoria });
    ({ server, databaseUrl } = await newServer(stack));
    await server.start();
    agents = await enrollAgents(stack, server, server.url, 2, 'stores');
  }, 180_000);
  afterAll(async () => {
    fleet?.close();
    await Promise.all(agents.map((agent) => agent.kill('SIGKILL')));
    await server?.kill('SIGKILL');
    await stack?.close();
  });

  it('loses and doubles nothing while each store is down in turn', async () => {
    fleet = await startSimFleet(10, server.url, await server.enrollmentToken('StoresFleet'), INTERVAL_MS);
    for (const agent of agents) agent.start();
    await allDelivered();
    const figures: Record<string, unknown> = {};

    step('PostgreSQL down');
    await stack.pg.stop('immediate');
    await sleep(OUTAGE_MS.postgres);
    const pgBackAt = Date.now();
    await stack.pg.start();
    await allDelivered();
    figures.postgresOutage = { downMs: OUTAGE_MS.postgres, recoveryMs: Date.now() - pgBackAt, serverStillUp: server.proc?.child.exitCode === null };
    expect(server.proc?.child.exitCode).toBeNull();

    step('Redis down');
    await stack.redis.kill();
    await sleep(OUTAGE_MS.redis);
    const redisBackAt = Date.now();
    await stack.redis.start();
    await allDelivered();
    await sinkCaughtUp('cache');
    figures.redisOutage = { downMs: OUTAGE_MS.redis, recoveryMs: Date.now() - redisBackAt };
    expect(server.proc?.child.exitCode).toBeNull();

    step('ClickHouse down');
    await stack.clickhouse!.kill();
    await sleep(OUTAGE_MS.clickhouse);
    const chLag = await cursors();
    expect(chLag.lag.clickhouse).toBeGreaterThan(0);
    expect(chLag.lag.relational).toBeLessThan(chLag.lag.clickhouse!);
    const chBackAt = Date.now();
    await stack.clickhouse!.start();
    await sinkCaughtUp('clickhouse');
    figures.clickhouseOutage = { downMs: OUTAGE_MS.clickhouse, lagRowsAtRestart: chLag.lag.clickhouse, catchUpMs: Date.now() - chBackAt };

    if (stack.victoria) {
      step('VictoriaMetrics down');
      // Stopped, not killed: kill -9 loses the points VictoriaMetrics acknowledged in its last
      // seconds (they sit in its in-memory buffer), which no client can detect (RELIABILITY.md).
      await stack.victoria.kill('SIGTERM');
      await sleep(OUTAGE_MS.victoria);
      const vmLag = await cursors();
      expect(vmLag.lag.influx).toBeGreaterThan(0);
      const vmBackAt = Date.now();
      await stack.victoria.start();
      await sinkCaughtUp('influx');
      figures.victoriaOutage = { downMs: OUTAGE_MS.victoria, lagRowsAtRestart: vmLag.lag.influx, catchUpMs: Date.now() - vmBackAt };
      expect(server.proc?.child.exitCode).toBeNull();
    } else {
      step('VictoriaMetrics outage skipped: victoria-metrics is not installed');
    }

    step('verify');
    const simulated = await fleet.stopAndDrain();
    const real = await Promise.all(agents.map(stopAgent));
    const result = await finish(stack, server, databaseUrl, [...real, ...simulated]);
    expect(result.totals.dropped).toBe(0);
    // An outage only lags: no store's failures may set a record aside as if it were a bad one.
    expect(await quarantined()).toBe(0);
    report('store-outages', { ...result.totals, ...figures, quarantined: 0 });
  }, 300_000);
});
