import { join } from 'node:path';
import { expect } from 'vitest';
import { stopAgentCaughtUp } from '../../support/processes.ts';
import { AgentProcess, INTERVAL_MS, type ServerProcess, type Stack } from './stack.ts';
import { totals, verifyStores, waitForDrainers, type Collected } from './verify.ts';

/**
 * Stops a real agent once it has caught up, and returns what it collected; the few still in its
 * outbox may or may not have reached the server (verifyStores allows both).
 */
export async function stopAgent(agent: AgentProcess): Promise<Collected & { buffered: number }> {
  const allowed = await stopAgentCaughtUp(agent, async () => (await agent.status()).outbox.bufferedRecords, INTERVAL_MS);
  const status = await agent.cliStatus();
  expect(status.outbox.bufferedRecords).toBeLessThanOrEqual(allowed);
  return {
    deviceId: status.deviceId,
    nextSeq: status.outbox.nextSeq,
    droppedTotal: status.outbox.droppedTotal,
    buffered: status.outbox.bufferedRecords,
  };
}

/**
 * Enrolls `count` real agents (each its own data dir) against `serverUrl` (the server or a proxy
 * in front of it). They all run on this machine, so they share its machine key, and the server
 * rightly treats a second enrollment of the same machine in one organization as a re-enrollment:
 * each agent gets an organization of its own.
 */
export async function enrollAgents(stack: Stack, server: ServerProcess, serverUrl: string, count: number, prefix: string, extraArgs: string[] = []) {
  const agents = Array.from({ length: count }, (_, i) => new AgentProcess(join(stack.dir, `${prefix}-agent-${i}`), extraArgs));
  await Promise.all(agents.map(async (agent, i) => agent.enroll(serverUrl, await server.enrollmentToken(`${prefix}-${i}-${Date.now()}`))));
  return agents;
}

/**
 * The end of every case: wait for the drainers, stop the server (chdb has one process per data
 * folder), then check every store against what the agents collected.
 */
export async function finish(stack: Stack, server: ServerProcess, databaseUrl: string, collected: Collected[]) {
  const sinks = ['relational', 'cache', 'clickhouse', ...(stack.victoria ? ['influx'] : [])];
  await waitForDrainers(databaseUrl, sinks);
  await server.kill('SIGTERM');
  const figures = await verifyStores({
    databaseUrl,
    redisUrl: stack.redis.url,
    analytics: stack.clickhouse ? { url: stack.clickhouse.url } : { dataDir: server.dataDir },
    victoria: stack.victoria,
  }, collected);
  return { perDevice: figures, totals: totals(figures) };
}
