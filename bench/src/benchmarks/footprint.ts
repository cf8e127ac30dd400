import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AGENT_RUN_NODE_FLAGS } from '@ninjait/agent';
import { buildAgentBundle, bundledAgent, enrollAgent, spawnAgent, stopProcess, TSX_AGENT, type AgentCommand } from '../lib/agent-process.ts';
import { sumOf } from '../lib/metrics.ts';
import { collectEvery, startPeers, type PeerName, type RunningPeer } from '../lib/peers.ts';
import { sampleProcesses, summarize, type ProcSummary } from '../lib/proc.ts';
import { progress, sleep } from '../lib/progress.ts';
import { createFleetToken, withServer } from '../lib/server-process.ts';
import { round } from '../lib/stats.ts';
import { fmt } from '../lib/table.ts';
import { setting, type Benchmark } from './types.ts';
import { scratchDir } from '../lib/scratch.ts';

const IDLE = 'setInterval(()=>{},1e9)';
const PEER_LABELS: Record<PeerName, string> = { zabbixAgent: 'Zabbix agent 6.0 (all its processes)', nodeExporter: 'Prometheus node_exporter' };
/** The processes measured side by side; `agent` is the headline. */
const AGENTS = ['agent', 'agentWithoutFlags', 'agentTsx'] as const;
type Measured = (typeof AGENTS)[number] | 'bareNode' | PeerName;

/**
 * What users install (installers/build-bundle.ts: `bin/node lib/agent.mjs run`, started with the
 * launcher's Node flags) beside an idle `node` of the same runtime, all started at the same
 * moment. Also beside it: the same bundle without the flags, and the agent run through tsx as
 * developers do. Each agent is its own device (its own organization: one machine enrolls once
 * per organization). RSS and CPU from /proc over the whole run. Beside them, where Debian's
 * packages are installed, the Zabbix agent 6.0 and Prometheus node_exporter, asked for the same
 * metrics at the same interval (lib/peers.ts).
 */
export const footprintBenchmark: Benchmark = {
  name: 'footprint',
  summary: 'the installed agent bundle at a 30 s interval vs an idle node beside it: RSS, CPU, growth',
  async run(ctx) {
    const durationMs = setting(ctx, 'durationMs', 10 * 60_000, 20_000);
    const intervalMs = setting(ctx, 'intervalMs', 30_000, 5_000);
    const sampleEveryMs = setting(ctx, 'sampleEveryMs', 5_000, 1_000);
    // Start-up (loading the code, first collection and inventory) is reported apart from the steady figures.
    const warmupMs = setting(ctx, 'warmupMs', 60_000, 5_000);
    const dir = await scratchDir('ninjait-bench-footprint-');
    try {
      progress('footprint: building the agent bundle (installers/build-bundle.ts)');
      const bundle = await buildAgentBundle(join(dir, 'bundle'));
      const commands: Record<(typeof AGENTS)[number], [readonly string[], AgentCommand]> = {
        agent: [AGENT_RUN_NODE_FLAGS, bundledAgent(bundle)],
        agentWithoutFlags: [[], bundledAgent(bundle)],
        agentTsx: [[], TSX_AGENT],
      };
      return await withServer(ctx, { stores: ctx.stores, env: { AGENT_INTERVAL_MS: String(intervalMs) } }, async (server) => {
        const logFile = join(dir, 'agent.log');
        for (const name of AGENTS) {
          const { token } = await createFleetToken(server, 1);
          await enrollAgent(server.url, token, join(dir, name), logFile, commands[name][1]);
        }
        progress(`footprint: bundle agent (flags ${AGENT_RUN_NODE_FLAGS.join(' ')}), the same without flags, the tsx agent and bare node for ${durationMs / 1000} s (+${warmupMs / 1000} s warm-up)`);
        const agents = AGENTS.map((name) => spawnAgent(['run', '--data-dir', join(dir, name), '--interval-ms', String(intervalMs)], logFile, {}, ...commands[name]));
        const bare = spawn(bundle.node, ['-e', IDLE], { stdio: 'ignore' });
        const children = [...agents, bare];
        const pids = Object.fromEntries([...AGENTS.map((name, i) => [name, agents[i]!.pid!] as const), ['bareNode', bare.pid!] as const]) as Record<Measured, number>;
        let peers: RunningPeer[] = [];
        let peersMissing: string[] = [];
        let peersFailed: string | null = null;
        try {
          ({ peers, missing: peersMissing } = await startPeers(dir));
          if (peersMissing.length > 0) progress(`footprint: not installed, so not measured beside ours: ${peersMissing.join(', ')} (apt-get install ${peersMissing.join(' ')})`);
        } catch (error) {
          peersFailed = (error as Error).message;
          progress(`footprint: the peers did not start: ${peersFailed}`);
        }
        const collecting = collectEvery(peers, intervalMs);
        const sampler = sampleProcesses(pids, sampleEveryMs, Object.fromEntries(peers.map((peer) => [peer.name, peer.pgid])));
        try {
          const ingested0 = sumOf(await server.metrics(), 'ninjait_records_ingested_total');
          for (let waited = 0; waited < warmupMs + durationMs; waited += 10_000) {
            await sleep(Math.min(10_000, warmupMs + durationMs - waited));
            const dead = agents.findIndex((a) => a.exitCode !== null);
            if (dead >= 0) throw new Error(`${AGENTS[dead]} exited with ${agents[dead]!.exitCode}; see ${logFile}`);
            if (waited % 60_000 === 0 && waited > 0) progress(`  ${Math.round(waited / 1000)} s`);
          }
          sampler.stop();
          const ingested = sumOf(await server.metrics(), 'ninjait_records_ingested_total') - ingested0;
          const series = (name: Measured) => sampler.series[name]!;
          const skip = (name: Measured) => Math.max(0, series(name).findIndex((s) => s.atMs - series(name)[0]!.atMs >= warmupMs));
          const names = [...Object.keys(pids), ...peers.map((peer) => peer.name)] as Measured[];
          const steady = Object.fromEntries(names.map((name) => [name, summarize(series(name), skip(name))])) as Record<Measured, ProcSummary>;
          const startup = summarize(series('agent').slice(0, skip('agent') + 1));
          const ratio = (name: Measured) => round(steady[name].rssMeanMb / steady.bareNode.rssMeanMb, 2);
          const mb = (name: Measured) => fmt(steady[name].rssMeanMb, 'MB');
          const cpu = (name: Measured) => fmt(steady[name].cpuPercentOfCore, '%', 3);
          return {
            config: { durationMs, intervalMs, sampleEveryMs, warmupMs, nodeFlags: AGENT_RUN_NODE_FLAGS },
            figures: {
              steady, agentStartup: startup,
              rssRatioToBareNode: ratio('agent'), rssRatioWithoutFlags: ratio('agentWithoutFlags'), rssRatioTsx: ratio('agentTsx'),
              // By the three agents together: proof they collected and pushed all along.
              recordsDeliveredDuringRun: ingested,
              peers: { collected: collecting.tally, missing: peersMissing, failed: peersFailed },
            },
            rows: [
              {
                benchmark: 'footprint', figure: 'agent RSS (bundle, mean, steady)', value: `${mb('agent')} (${ratio('agent')}× bare)`,
                baseline: `bare node ${mb('bareNode')}; without flags ${mb('agentWithoutFlags')} (${ratio('agentWithoutFlags')}×); via tsx ${mb('agentTsx')}`,
                goal: '≤ 1.5× bare node',
              },
              {
                benchmark: 'footprint', figure: 'agent CPU (bundle, steady)',
                value: `${fmt(steady.agent.cpuPercentOfCore, '% of a core', 3)} (${fmt(steady.agent.cpuWithChildrenPercentOfCore, '%', 3)} with the probes it spawns)`,
                baseline: `bare node ${cpu('bareNode')}; without flags ${cpu('agentWithoutFlags')}; via tsx ${cpu('agentTsx')}`, goal: '≤ 0.2 % of a core',
              },
              {
                benchmark: 'footprint', figure: 'agent RSS growth (bundle)', value: fmt(steady.agent.rssGrowthMbPerHour, 'MB/h', 2),
                baseline: `bare node ${fmt(steady.bareNode.rssGrowthMbPerHour, 'MB/h', 2)}; without flags ${fmt(steady.agentWithoutFlags.rssGrowthMbPerHour, 'MB/h', 2)}`,
                goal: 'no growth',
              },
              ...peers.map((peer) => ({
                benchmark: 'footprint', figure: `peer: ${PEER_LABELS[peer.name]} (same metrics, same interval): RSS · CPU · growth`,
                value: `${mb(peer.name)} · ${cpu(peer.name)} · ${fmt(steady[peer.name].rssGrowthMbPerHour, 'MB/h', 2)}`,
                baseline: `our agent ${mb('agent')} · ${cpu('agent')} · ${fmt(steady.agent.rssGrowthMbPerHour, 'MB/h', 2)}`, goal: '-',
              })),
            ],
          };
        } finally {
          sampler.stop();
          await collecting.stop();
          await Promise.all([...children.map((child) => stopProcess(child)), ...peers.map((peer) => peer.stop())]);
        }
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
