import { join } from 'node:path';
import { expect } from 'vitest';
import { waitFor } from '../../support/processes.ts';
import { AgentProcess, INTERVAL_MS, type ServerProcess, type Stack } from './stack.ts';
import { totals, verifyStores, waitForDrainers, type Collected } from './verify.ts';

/**
 * Stops a real agent once it has caught up, and returns what it collected; the few still in its
 * outbox may or may not have reached the server (verifyStores allows both).
 */
export async function stopAgent(agent: AgentProcess): Promise<Collected & { buffered: number }> {
  // Caught up while it runs, then stopped at once: what stays in the outbox is then only what was
  // collected around the stop, however slowly a loaded machine's server acknowledges. (Stopped
  // wherever it was, an agent left three records under load where two were allowed.)
  await waitFor('the agent to catch up before it stops', async () => (await agent.status()).outbox.bufferedRecords <= 1, 60_000, 100);
  const stopping = Date.now();
  await agent.kill('SIGTERM');
  const stopMs = Date.now() - stopping;
  const status = await agent.cliStatus();
  // The one it may have had, a sample for each interval the stop took, and one taken as it began:
  // an agent that had stopped sending would hold far more.
  expect(status.outbox.bufferedRecords).toBeLessThanOrEqual(2 + Math.ceil(stopMs / INTERVAL_MS));
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
