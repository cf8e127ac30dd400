import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_VERSION } from '@ninjait/shared';
import { fakeInventory, fakeSample } from '../testing/fixtures.ts';
import { FAKE_DEVICE, FAKE_TOKEN, startFakeServer, type FakeServer } from '../testing/fake-server.ts';
import { memoryLogger } from '../testing/log.ts';
import { requestEnrollment } from './enroll-client.ts';
import { connectLink } from './trpc-link.ts';
import { LinkError } from './types.ts';
import { trpcHttpUrl, trpcWsUrl } from './ws-url.ts';

let server: FakeServer;
beforeAll(async () => {
  server = await startFakeServer();
});
afterAll(async () => {
  await server.close();
});

const heartbeatInput = { agentVersion: AGENT_VERSION, intervalMs: 30_000, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 0, errors: [] };

describe('urls', () => {
  it('maps a server base URL to the tRPC endpoints', () => {
    expect(trpcWsUrl('http://h:3000')).toBe('ws://h:3000/trpc');
    expect(trpcWsUrl('https://h/rmm/')).toBe('wss://h/rmm/trpc');
    expect(trpcHttpUrl('https://h').toString()).toBe('https://h/trpc');
    expect(() => trpcWsUrl('ftp://h')).toThrow(/http/);
  });
});

describe('link over a real WebSocket', () => {
  it('authenticates with connectionParams, heartbeats and pushes', async () => {
    const link = connectLink({ server: server.url, credentials: FAKE_DEVICE, log: memoryLogger().log });
    try {
      await new Promise<void>((resolve) => link.onConnected(resolve));
      expect(link.connected).toBe(true);
      const hb = await link.heartbeat(heartbeatInput);
      expect(hb.ackSeq).toBe(0);
      const out = await link.push({ records: [{ seq: 1, collectedAt: Date.now(), kind: 'sample', sample: fakeSample() }] });
      expect(out.ackSeq).toBe(1);
      expect(server.logged.has(1)).toBe(true);
    } finally {
      await link.close();
    }
  });

  it('reports refused credentials as UNAUTHORIZED', async () => {
    const link = connectLink({ server: server.url, credentials: { ...FAKE_DEVICE, deviceSecret: 'wrong-wrong-wrong-wrong' }, log: memoryLogger().log });
    try {
      const err = await link.heartbeat(heartbeatInput).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(LinkError);
      expect((err as LinkError).code).toBe('UNAUTHORIZED');
    } finally {
      await link.close();
    }
  });

  it('recognises a refusal at connection time and says what to do', async () => {
    const strict = await startFakeServer({ rejectInContext: true });
    const { log, lines } = memoryLogger();
    const link = connectLink({ server: strict.url, credentials: { ...FAKE_DEVICE, deviceSecret: 'wrong-wrong-wrong-wrong' }, log });
    try {
      const err = await link.heartbeat(heartbeatInput).then(() => null, (e: unknown) => e);
      expect((err as LinkError).code).toBe('UNAUTHORIZED');
      expect(lines.some((l) => l.level === 50 && String(l.msg).includes('enroll'))).toBe(true);
    } finally {
      await link.close();
      await strict.close();
    }
  });

  it('enrolls over HTTP, and says why when the token is refused', async () => {
    const out = await requestEnrollment(server.url, { token: FAKE_TOKEN, inventory: fakeInventory() });
    expect(out).toMatchObject({ deviceId: FAKE_DEVICE.deviceId, nextSeq: expect.any(Number) as number });
    const err = await requestEnrollment(server.url, { token: 'not-the-token-at-all', inventory: fakeInventory() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkError);
    expect((err as LinkError).code).toBe('UNAUTHORIZED');
  });

  it('reports an unreachable server as TRANSIENT', async () => {
    const err = await requestEnrollment('http://127.0.0.1:1', { token: FAKE_TOKEN, inventory: fakeInventory() }, { timeoutMs: 2_000 }).catch((e: unknown) => e);
    expect((err as LinkError).code).toBe('TRANSIENT');
  });
});
