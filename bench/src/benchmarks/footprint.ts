import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enrollAgent, spawnAgent, stopProcess } from '../lib/agent-process.ts';
import { sumOf } from '../lib/metrics.ts';
import { sampleProcesses, summarize } from '../lib/proc.ts';
import { progress, sleep } from '../lib/progress.ts';
import { createFleetToken, REPO_ROOT, withServer } from '../lib/server-process.ts';
import { round } from '../lib/stats.ts';
import { fmt } from '../lib/table.ts';
import { setting, type Benchmark } from './types.ts';

const IDLE = 'setInterval(()=>{},1e9)';

/**
 * The real agent (`ninjait-agent run`) beside two idle processes started at the same moment:
 * bare `node`, and `node --import tsx` (the agent ships as TypeScript run by tsx, so that is
 * the floor its own code adds to). RSS and CPU from /proc over the whole run.
 */
export const footprintBenchmark: Benchmark = {
  name: 'footprint',
  summary: 'the real agent process at a 30 s interval vs an idle node beside it: RSS, CPU, growth',
  async run(ctx) {
    const durationMs = setting(ctx, 'durationMs', 10 * 60_000, 20_000);
    const intervalMs = setting(ctx, 'intervalMs', 30_000, 5_000);
    const sampleEveryMs = setting(ctx, 'sampleEveryMs', 5_000, 1_000);
    // Start-up (tsx compiling the agent, first collection) is reported apart from the steady figures.
    const warmupMs = setting(ctx, 'warmupMs', 60_000, 5_000);
    const dir = await mkdtemp(join(tmpdir(), 'ninjait-bench-footprint-'));
    try {
      return await withServer(ctx, { stores: ctx.stores, env: { AGENT_INTERVAL_MS: String(intervalMs) } }, async (server) => {
        const { token } = await createFleetToken(server, 1);
        await enrollAgent(server.url, token, join(dir, 'agent'), join(dir, 'agent.log'));
        progress(`footprint: agent, bare node and node+tsx side by side for ${durationMs / 1000} s (+${warmupMs / 1000} s warm-up)`);
        const agent = spawnAgent(['run', '--data-dir', join(dir, 'agent'), '--interval-ms', String(intervalMs)], join(dir, 'agent.log'));
        const bare = spawn(process.execPath, ['-e', IDLE], { stdio: 'ignore' });
        const tsx = spawn(process.execPath, ['--import', 'tsx', '-e', IDLE], { stdio: 'ignore', cwd: REPO_ROOT });
        const processes = { agent: agent.pid!, bareNode: bare.pid!, nodeWithTsx: tsx.pid! };
        const sampler = sampleProcesses(processes, sampleEveryMs);
        try {
          const ingested0 = sumOf(await server.metrics(), 'ninjait_records_ingested_total');
          for (let waited = 0; waited < warmupMs + durationMs; waited += 10_000) {
            await sleep(Math.min(10_000, warmupMs + durationMs - waited));
            if (agent.exitCode !== null) throw new Error(`the agent exited with ${agent.exitCode}; see ${join(dir, 'agent.log')}`);
            if (waited % 60_000 === 0 && waited > 0) progress(`  ${Math.round(waited / 1000)} s`);
          }
          sampler.stop();
          const ingested = sumOf(await server.metrics(), 'ninjait_records_ingested_total') - ingested0;
          const skip = (name: keyof typeof processes) => sampler.series[name]!.findIndex((s) => s.atMs - sampler.series[name]![0]!.atMs >= warmupMs);
          const steady = Object.fromEntries(Object.keys(processes).map((name) => {
            const key = name as keyof typeof processes;
            return [name, summarize(sampler.series[key]!, Math.max(0, skip(key)))];
          })) as Record<keyof typeof processes, ReturnType<typeof summarize>>;
          const startup = summarize(sampler.series.agent!.slice(0, Math.max(1, skip('agent') + 1)));
          const ratio = round(steady.agent.rssMeanMb / steady.bareNode.rssMeanMb, 2);
          return {
            config: { durationMs, intervalMs, sampleEveryMs, warmupMs },
            figures: { steady, agentStartup: startup, rssRatioToBareNode: ratio, rssRatioToNodeWithTsx: round(steady.agent.rssMeanMb / steady.nodeWithTsx.rssMeanMb, 2), recordsDeliveredDuringRun: ingested },
            rows: [
              { benchmark: 'footprint', figure: 'agent RSS (mean, steady)', value: `${fmt(steady.agent.rssMeanMb, 'MB')} (${ratio}× bare)`, baseline: `bare node ${fmt(steady.bareNode.rssMeanMb, 'MB')}; node+tsx ${fmt(steady.nodeWithTsx.rssMeanMb, 'MB')}`, goal: '≤ 1.5× bare node' },
              { benchmark: 'footprint', figure: 'agent CPU (steady)', value: fmt(steady.agent.cpuPercentOfCore, '% of a core', 3), baseline: `bare node ${fmt(steady.bareNode.cpuPercentOfCore, '%', 3)}`, goal: '≤ 0.2 % of a core' },
              { benchmark: 'footprint', figure: 'agent RSS growth', value: fmt(steady.agent.rssGrowthMbPerHour, 'MB/h', 2), baseline: `bare node ${fmt(steady.bareNode.rssGrowthMbPerHour, 'MB/h', 2)}`, goal: 'no growth' },
            ],
          };
        } finally {
          sampler.stop();
          await Promise.all([stopProcess(agent), stopProcess(bare), stopProcess(tsx)]);
        }
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
