import { randomBytes } from 'node:crypto';
import { connectRaw, type AgentTransport } from '../fleet/transport.ts';
import { trpcHttp } from '../lib/http-trpc.ts';
import { loginAs } from '../lib/people.ts';
import { progress } from '../lib/progress.ts';
import { withServer, type ServerUnderTest } from '../lib/server-process.ts';
import { Histogram } from '../lib/stats.ts';
import { fmt, type Row } from '../lib/table.ts';
import { fleetFigures, runSteadyFleet } from './connected.ts';
import { setting, settingList, type BenchContext, type Benchmark } from './types.ts';

type OutputEvent = { type: 'chunk'; data: string } | { type: 'status'; status: string } | { type: 'result'; status: string };

/**
 * One technician command: `commands.run` of `echo <nonce>`, then `commands.output` until the
 * nonce is seen (output) and the result arrives. Times are from the run call.
 */
async function roundTrip(tech: AgentTransport, deviceId: string, timeoutMs: number) {
  const nonce = randomBytes(6).toString('hex');
  const t0 = performance.now();
  const command = await tech.mutation<{ id: string }>('commands.run', { deviceId, script: `echo ${nonce}`, timeoutSec: 30 });
  return new Promise<{ outputMs: number; resultMs: number }>((resolve, reject) => {
    let outputMs: number | null = null;
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`command ${command.id} did not finish in ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = tech.subscribe('commands.output', { id: command.id }, (data) => {
      const event = data as OutputEvent;
      if (event.type === 'chunk' && event.data.includes(nonce)) outputMs ??= performance.now() - t0;
      if (event.type === 'result') {
        clearTimeout(timer);
        stop();
        if (event.status !== 'succeeded') reject(new Error(`command ${command.id} ended ${event.status}`));
        else resolve({ outputMs: outputMs ?? performance.now() - t0, resultMs: performance.now() - t0 });
      }
    });
  });
}

async function measureLevel(server: ServerUnderTest, ctx: BenchContext, agents: number, commands: number, intervalMs: number) {
  const { fleet } = await runSteadyFleet(server, ctx, {
    agents, intervalMs, startPeriodMs: Math.round((agents / 250) * 1000), steadyMs: 0, commands: true,
    onSteady: () => undefined,
  });
  try {
    const orgs = await server.admin<{ id: string; name: string }[]>('admin.organizations.list', 'query');
    const org = orgs.filter((o) => o.name.startsWith('bench-')).at(-1)!;
    const devices = await server.admin<{ id: string }[]>('admin.devices.list', 'query', { org: org.id });
    const person = await loginAs(server, org.id, 'technician');
    const tech = await connectRaw({ url: server.url, params: { sessionToken: person.sessionToken } });
    const output = new Histogram();
    const result = new Histogram();
    const floor = new Histogram();
    const failures: string[] = [];
    for (let i = 0; i < commands; i++) {
      // Baseline: the same socket, a query that touches only the session: the transport's floor.
      const b0 = performance.now();
      await tech.query('auth.me', undefined);
      floor.record(performance.now() - b0);
      const device = devices[Math.floor(Math.random() * devices.length)]!;
      try {
        const rt = await roundTrip(tech, device.id, 30_000);
        output.record(rt.outputMs);
        result.record(rt.resultMs);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    tech.close();
    const s = await fleet.stop();
    return { agents, commands, failures: failures.length, failureExamples: failures.slice(0, 5),
      outputSeen: output.summary(), resultSeen: result.summary(), baselineAuthMe: floor.summary(), fleet: fleetFigures(s) };
  } catch (error) {
    await fleet.stop();
    throw error;
  }
}

export const commandsBenchmark: Benchmark = {
  name: 'commands',
  summary: 'technician → agent echo → output seen: p50/p99 at 1, 1,000 and 10,000 agents',
  async run(ctx) {
    const levels = settingList(ctx, 'commandAgents', [1, 1_000, 10_000], [1, 5]);
    const commands = setting(ctx, 'commands', 200, 5);
    const intervalMs = setting(ctx, 'intervalMs', 30_000, 5_000);
    const hasCommands = await withServer(ctx, { stores: ctx.stores }, (probe) =>
      trpcHttp(probe.url, 'commands.run', 'mutation', {}).then(() => true, (e: { code?: string }) => e.code !== 'NOT_FOUND'));
    if (!hasCommands) return { config: { levels }, figures: {}, rows: [], pending: 'the server has no commands.run yet' };
    const out: Awaited<ReturnType<typeof measureLevel>>[] = [];
    for (const agents of levels) {
      progress(`commands: ${commands} echo round trips with ${agents} agents connected`);
      out.push(await withServer(ctx, { stores: ctx.stores, env: { AGENT_INTERVAL_MS: String(intervalMs) } },
        (server) => measureLevel(server, ctx, agents, commands, intervalMs)));
    }
    const rows: Row[] = out.map((l) => ({
      benchmark: 'commands',
      figure: `${l.agents} agents: echo output seen p50 / p99`,
      value: `${fmt(l.outputSeen.p50Ms, 'ms')} / ${fmt(l.outputSeen.p99Ms, 'ms')}${l.failures ? ` (${l.failures} failed)` : ''}`,
      baseline: `auth.me ${fmt(l.baselineAuthMe.p50Ms, 'ms')} / ${fmt(l.baselineAuthMe.p99Ms, 'ms')}`,
      goal: 'p50 ≤ 15 ms, p99 ≤ 50 ms at 10k',
    }));
    return { config: { levels, commands, intervalMs }, figures: { levels: out }, rows };
  },
};
