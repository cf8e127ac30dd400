import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EnrollInput, EnrollOutput } from '@ninjait/shared';
import { readConfig, writeConfig } from './config/file.ts';
import { resolvePaths } from './config/paths.ts';
import { enrollAgent } from './enroll.ts';
import { openOutbox } from './outbox/outbox.ts';
import { fakeInventory, fakeRecord } from './testing/fixtures.ts';
import { memoryLogger } from './testing/log.ts';
import { tempDir } from './testing/temp.ts';

let tmp: ReturnType<typeof tempDir>;
let paths: ReturnType<typeof resolvePaths>;
beforeEach(() => {
  tmp = tempDir();
  paths = resolvePaths({ dataDir: tmp.dir });
});
afterEach(() => tmp.cleanup());

const A = '11111111-1111-4111-8111-111111111111';
const B = '33333333-3333-4333-8333-333333333333';
const ORG = '22222222-2222-4222-8222-222222222222';
const answer = (o: Partial<EnrollOutput>): EnrollOutput => ({
  deviceId: A, organizationId: ORG, deviceSecret: 'x'.repeat(32), nextSeq: 1, intervalMs: 30_000, reused: false, ...o,
});

describe('enrollAgent', () => {
  const sent: EnrollInput[] = [];
  beforeEach(() => void (sent.length = 0));
  const enroll = (out: EnrollOutput, server = 'http://srv:3000/') =>
    enrollAgent({
      server, token: 't'.repeat(20), paths, log: memoryLogger('silent').log, insecure: true, inventory: async () => fakeInventory(),
      request: async (_url, input) => {
        sent.push(input);
        return out;
      },
    });
  const buffered = () => {
    const o = openOutbox({ file: paths.outboxFile, bufferMaxMb: 64 });
    try {
      return { seqs: o.oldest(100, 1e9).map((r) => r.seq), next: o.stats().nextSeq };
    } finally {
      o.close();
    }
  };
  const appendN = (n: number) => {
    const o = openOutbox({ file: paths.outboxFile, bufferMaxMb: 64 });
    for (let i = 0; i < n; i++) o.append(fakeRecord());
    o.close();
  };

  it('writes the config and continues the sequence where the server says', async () => {
    const { config } = await enroll(answer({ nextSeq: 40 }));
    expect(config.server).toBe('http://srv:3000');
    expect(readConfig(paths.configFile)).toEqual(config);
    expect(buffered().next).toBe(40);
  });

  it('re-enrolling the same device trims what the server already logged, keeps the rest', async () => {
    writeConfig(paths.configFile, { server: 'http://srv:3000', deviceId: A, organizationId: ORG, deviceSecret: 'y'.repeat(32), intervalMs: 30_000, enrolledAt: 1 });
    appendN(5); // seq 1..5; the server logged 1..3 but the acks were lost
    await enroll(answer({ reused: true, nextSeq: 4 }));
    expect(buffered().seqs).toEqual([4, 5]);
  });

  it('enrolling as a new device renumbers buffered records so none looks like a replay', async () => {
    writeConfig(paths.configFile, { server: 'http://old:3000', deviceId: B, organizationId: ORG, deviceSecret: 'y'.repeat(32), intervalMs: 30_000, enrolledAt: 1 });
    appendN(3);
    await enroll(answer({ deviceId: A, reused: true, nextSeq: 10 }));
    expect(buffered().seqs).toEqual([10, 11, 12]);
    expect(buffered().next).toBe(13);
  });

  it('proves the current credentials to the server they belong to, and to no other', async () => {
    writeConfig(paths.configFile, { server: 'http://srv:3000', deviceId: A, organizationId: ORG, deviceSecret: 'y'.repeat(32), intervalMs: 30_000, enrolledAt: 1 });
    await enroll(answer({ reused: true }));
    expect(sent.at(-1)?.currentCredentials).toEqual({ deviceId: A, deviceSecret: 'y'.repeat(32) });
    // A first enrollment has nothing to prove.
    tmp.cleanup();
    await enroll(answer({}), 'http://srv:3000');
    expect(sent.at(-1)).not.toHaveProperty('currentCredentials');
    // Moving to another server: the old server's secret stays here.
    await enroll(answer({}), 'http://other:3000');
    expect(sent.at(-1)).not.toHaveProperty('currentCredentials');
  });

  it('keeps the config of a device held for approval, so the agent runs and buffers meanwhile', async () => {
    const { enrollment, config } = await enroll(answer({ status: 'pending_approval' }));
    expect(enrollment.status).toBe('pending_approval');
    expect(readConfig(paths.configFile)).toEqual(config);
  });

  it('refuses plain http:// beyond loopback before anything is sent, unless insecure', async () => {
    const attempt = (server: string, insecure: boolean) => enrollAgent({
      server, token: 't'.repeat(20), paths, log: memoryLogger('silent').log, insecure, inventory: async () => fakeInventory(),
      request: async (_url, input) => {
        sent.push(input);
        return answer({});
      },
    });
    await expect(attempt('http://10.0.0.5:3000', false)).rejects.toThrow(/refusing plain http:\/\/.*--insecure/);
    await expect(attempt('http://rmm.example.com', false)).rejects.toThrow(/refusing plain http/);
    expect(sent).toEqual([]);
    for (const loopback of ['http://127.0.0.1:3000', 'http://localhost:3000', 'http://[::1]:3000', 'https://10.0.0.5']) {
      await expect(attempt(loopback, false)).resolves.toMatchObject({ config: { deviceId: A } });
    }
    await expect(attempt('http://10.0.0.5:3000', true)).resolves.toMatchObject({ config: { server: 'http://10.0.0.5:3000' } });
  });
});
