import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRPCClientError, createTRPCClient, createWSClient, httpLink, wsLink, type TRPCClient } from '@trpc/client';
import { WebSocket } from 'ws';
import type { Inventory } from '@ninjait/shared';
import type { AppRouter } from '../src/app/router.ts';
import { LOCAL_ADMIN_HEADER } from '../src/platform/trpc/context.ts';
import { readLocalAdminToken } from '../src/features/auth/local-admin.ts';
import { startServer, type RunningServer } from '../src/app/create-app.ts';
import { parseEnv } from '../src/platform/config/index.ts';
import { createScratchDatabase } from './databases.ts';
import { dropRedisKeys } from './redis-keys.ts';

export type Client = TRPCClient<AppRouter>;

export interface Harness {
  server: RunningServer;
  dataDir: string;
  admin: Client;
  http(headers?: Record<string, string>): Client;
  /** A WebSocket client with connection params, closed by `stop`. */
  ws(params: Record<string, string>): Client;
  stop(): Promise<void>;
}

/** A real server on a free port with the chosen engines, plus clients to drive it. */
export async function startHarness(options: { relational: 'pglite' | 'postgres'; cache: 'memory' | 'redis'; env?: Record<string, string> }): Promise<Harness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ninjait-test-'));
  const database = options.relational === 'postgres' ? await createScratchDatabase() : null;
  const keySpace = `test:${randomBytes(4).toString('hex')}:`;
  // The drainers keep their default poll (250 ms): an append in this server wakes them at once, and
  // polling every 20 ms cost an idle harness a quarter of a core in PGlite reads (7 % at 250 ms).
  const env = parseEnv({
    PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent',
    // npm test's cheap password hashes (test/runner/main.ts), as the servers it spawns get them.
    ...(process.env.PASSWORD_HASH_COST ? { PASSWORD_HASH_COST: process.env.PASSWORD_HASH_COST } : {}),
    ...(database ? { DATABASE_URL: database.url } : {}),
    // Each harness gets its own key space, so rate limits, sessions and queues never leak between test files.
    ...(options.cache === 'redis' ? { REDIS_URL: process.env.REDIS_URL!, REDIS_KEY_PREFIX: keySpace, QUEUE_PREFIX: `${keySpace}q` } : {}),
    ...options.env,
  });
  /** Removes what this harness left in the shared stores, whether or not the server started. */
  const cleanUp = async () => {
    await database?.drop();
    // Only the key space this harness chose: a caller that passed its own prefix cleans it up itself.
    if (env.REDIS_URL && env.REDIS_KEY_PREFIX === keySpace) await dropRedisKeys(env.REDIS_URL, [`${keySpace}*`]);
    await rm(dataDir, { recursive: true, force: true });
  };
  let server: RunningServer;
  try {
    server = await startServer(env);
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const adminToken = (await readLocalAdminToken(dataDir))!;
  const sockets: ReturnType<typeof createWSClient>[] = [];
  const http = (headers: Record<string, string> = {}) =>
    createTRPCClient<AppRouter>({ links: [httpLink({ url: `${server.url}/trpc`, headers })] });
  return {
    server,
    dataDir,
    admin: http({ [LOCAL_ADMIN_HEADER]: adminToken }),
    http,
    ws(params) {
      const socket = createWSClient({ url: `${server.url.replace('http', 'ws')}/trpc`, WebSocket: WebSocket as never, connectionParams: params, retryDelayMs: () => 200 });
      sockets.push(socket);
      return createTRPCClient<AppRouter>({ links: [wsLink({ client: socket })] });
    },
    async stop() {
      await Promise.all(sockets.map((socket) => socket.close()));
      await server.close();
      await cleanUp();
    },
  };
}

/** A valid inventory for a made-up machine. */
export function fakeInventory(machineKey: string, hostname = `host-${machineKey}`): Inventory {
  return {
    hostname,
    os: { platform: 'linux', distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0', arch: 'x64' },
    hardware: { manufacturer: 'QEMU', model: 'Standard PC', serial: '', uuid: '' },
    machineKey,
    cpu: { brand: 'Test CPU', cores: 2, physicalCores: 2, speedGHz: 2.5 },
    memoryBytes: 8 * 1024 ** 3,
    disks: [],
    interfaces: [{ iface: 'eth0', mac: '52:54:00:12:34:56', ip4: '10.0.0.5', ip6: '' }],
    agentVersion: '0.1.0',
  };
}

/** A sample record with plausible values; `seq` and time are the caller's. */
export function fakeSampleRecord(seq: number, collectedAt = Date.now(), cpu = 12.5) {
  return {
    seq, collectedAt, kind: 'sample' as const,
    sample: {
      cpu: { loadPercent: cpu, perCorePercent: [cpu, cpu] },
      memory: { totalBytes: 8e9, usedBytes: 4e9, availableBytes: 4e9, swapTotalBytes: 0, swapUsedBytes: 0 },
      disks: [{ mount: '/', fs: '/dev/vda1', type: 'ext4', sizeBytes: 100e9, usedBytes: 40e9 }],
      network: [{ iface: 'eth0', rxBytes: 1000 * seq, txBytes: 500 * seq, rxBytesPerSec: 100, txBytesPerSec: 50, rxErrors: 0, txErrors: 0 }],
      uptimeSec: 1000 + seq,
    },
  };
}

/** The tRPC error code a call fails with; throws if it succeeds. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return (error.data as { code: string }).code;
    throw error;
  }
  throw new Error('expected the call to fail');
}
