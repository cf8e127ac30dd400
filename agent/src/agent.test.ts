import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent, type RunningAgent } from './agent.ts';
import type { AgentConfig } from './config/file.ts';
import { readOutboxStats } from './outbox/read-stats.ts';
import { FAKE_DEVICE, startFakeServer } from './testing/fake-server.ts';
import { fakeInventory, fakeSample } from './testing/fixtures.ts';
import { memoryLogger } from './testing/log.ts';
import { tempDir } from './testing/temp.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const until = async (cond: () => boolean, timeoutMs = 8_000) => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

function start(serverUrl: string): { agent: RunningAgent; file: string } {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const config: AgentConfig = { server: serverUrl, ...FAKE_DEVICE, intervalMs: 1_000, enrolledAt: Date.now() };
  const file = join(tmp.dir, 'outbox.db');
  const agent = runAgent({
    config, outboxFile: file, log: memoryLogger('warn').log,
    sample: async () => fakeSample(), inventory: async () => fakeInventory(),
  });
  cleanups.push(() => agent.stop());
  return { agent, file };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('runAgent', () => {
  it('samples, pushes, heartbeats, and stops cleanly within 2 s', async () => {
    const server = await startFakeServer();
    cleanups.push(() => server.close());
    const { agent, file } = start(server.url);
    await until(() => server.logged.size >= 2 && server.heartbeats.length >= 1);
    expect(server.logged.get(1)?.kind).toBe('sample');
    expect(server.logged.get(2)?.kind).toBe('inventory');
    await until(() => agent.outbox.stats().bufferedRecords === 0);
    expect(server.connections).toBe(1);
    const t0 = Date.now();
    await agent.stop();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(readOutboxStats(file)).toMatchObject({ bufferedRecords: 0, droppedTotal: 0 });
  });

  it('buffers while the server is down and drains once it is up, in order and without doubles', async () => {
    const port = await freePort();
    const { agent } = start(`http://127.0.0.1:${port}`);
    await until(() => agent.outbox.stats().bufferedRecords >= 3, 5_000);
    const server = await startFakeServer({ port });
    cleanups.push(() => server.close());
    await until(() => agent.outbox.stats().bufferedRecords === 0 && server.logged.size >= 3, 9_000);
    const seqs = [...server.logged.keys()];
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs[0]).toBe(1);
    expect(new Set(seqs).size).toBe(seqs.length);
  }, 15_000);
});
