import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RemoteOp, RemoteOpKind, RemoteResult } from '@ninjait/shared';
import { readLocalAdminToken } from '../src/features/auth/local-admin.ts';
import { LOCAL_ADMIN_HEADER } from '../src/platform/trpc/context.ts';
import type { RemoteCall } from '../src/cli/transfer.ts';
import { startHarness, type Harness } from './harness.ts';
import { createTenant, httpClient, startAgent, until, wsClient, type Tenant } from './command-fixtures.ts';
import { measureEchoRoundTrip } from './echo-round-trip.ts';

/** A harness with one tenant whose device's agent answers: what the file transfer tests start from. */
export interface TransferFixture {
  h: Harness;
  x: Tenant;
  adminToken: string;
  /** A temporary folder for the test's files, removed by `stop`. */
  dir: string;
  device: { deviceId: string; deviceSecret: string };
  agent: Awaited<ReturnType<typeof startAgent>>;
  /** The tenant's technician on a socket: relays reach the agent through it. */
  techWs: ReturnType<typeof wsClient>;
  /** `ninjait cp`'s calls: the local admin's `remote.local` for `deviceId`. */
  cliCall(deviceId: string): RemoteCall;
  /** Resolves once an echo reaches `deviceId`'s agent through the technician's socket. */
  reachable(deviceId: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts a server on `relational` + `cache`, makes `org` with a device, runs its agent and waits
 * until an echo reaches it (so the first transfer does not race the agent's connection).
 */
export async function startTransferFixture(options: { relational: 'pglite' | 'postgres'; cache: 'memory' | 'redis'; org: string; device: string; dirPrefix: string }): Promise<TransferFixture> {
  const dir = await mkdtemp(join(tmpdir(), options.dirPrefix));
  const h = await startHarness({ relational: options.relational, cache: options.cache, env: { RATE_LIMIT_MAX: '100000', DRAIN_POLL_MS: '250' } });
  const adminToken = (await readLocalAdminToken(h.dataDir))!;
  const x = await createTenant(h.server.url, adminToken, options.org);
  const techWs = wsClient(h.server.url, { sessionToken: x.technicianToken });
  const device = await x.enroll(options.device);
  const agent = await startAgent(h.server.url, device);
  const reachable = async (deviceId: string) => {
    await until(async () => (await measureEchoRoundTrip(techWs.client, deviceId, { timeoutMs: 5_000 }).catch(() => null)) !== null, 20_000, 200);
  };
  await reachable(device.deviceId);
  return {
    h, x, adminToken, dir, device, agent, techWs, reachable,
    cliCall(deviceId) {
      const api = httpClient(h.server.url, { [LOCAL_ADMIN_HEADER]: adminToken });
      return (async <K extends RemoteOpKind>(op: Extract<RemoteOp, { kind: K }>) => (await api.remote.local.mutate({ device: deviceId, op })).result as RemoteResult<K>) as RemoteCall;
    },
    async stop() {
      await Promise.allSettled([agent.stop(), techWs.close()]);
      await h.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
