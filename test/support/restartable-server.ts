import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase } from '@ninjait/server/testing';
import { dropRedisKeys } from '@ninjait/server/testing';
import { freePort, SERVER_CLI, startCli, waitForHttp, type Proc } from './processes.ts';

/** Which engines a server runs on: each relational engine with each cache. */
export interface StoreCombination {
  name: string;
  relational: 'pglite' | 'postgres';
  cache: 'memory' | 'redis';
}

/**
 * Every pairing of relational store and cache this machine can run: the embedded pair always,
 * PostgreSQL and Redis ones when `DATABASE_URL` / `REDIS_URL` are set (the skipped ones are named).
 */
export function storeCombinations(): StoreCombination[] {
  const relational = process.env.DATABASE_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);
  const caches = process.env.REDIS_URL ? (['memory', 'redis'] as const) : (['memory'] as const);
  if (!process.env.DATABASE_URL) console.warn('DATABASE_URL is not set: the PostgreSQL combinations of this test are skipped (PGlite runs)');
  if (!process.env.REDIS_URL) console.warn('REDIS_URL is not set: the Redis combinations of this test are skipped (in-process cache runs)');
  const label = { pglite: 'PGlite', postgres: 'PostgreSQL', memory: 'in-process cache', redis: 'Redis' };
  return relational.flatMap((r) => caches.map((c) => ({ name: `${label[r]} + ${label[c]}`, relational: r, cache: c })));
}

/** A `ninjait serve` process that can be stopped and started again on the same DATA_DIR, database and key space. */
export interface RestartableServer {
  url: string;
  dataDir: string;
  proc: Proc | null;
  /** Starts the process and waits for /healthz. */
  start(): Promise<void>;
  /** Stops the process (SIGTERM: a clean shutdown, as a service manager restarts it). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops it and removes its folder, scratch database and Redis keys. */
  destroy(): Promise<void>;
}

export async function createRestartableServer(engines: StoreCombination, env: Record<string, string> = {}): Promise<RestartableServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ninjait-restart-'));
  const database = engines.relational === 'postgres' ? await createScratchDatabase(process.env.DATABASE_URL, 'ninjait_restart') : null;
  const run = randomBytes(4).toString('hex');
  const keyPrefix = `restart:${run}:`;
  const queuePrefix = `restart${run}`;
  const port = await freePort();
  const serverEnv = {
    PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env,
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...(engines.cache === 'redis' ? { REDIS_URL: process.env.REDIS_URL!, REDIS_KEY_PREFIX: keyPrefix, QUEUE_PREFIX: queuePrefix } : {}),
  };
  const server: RestartableServer = {
    url: `http://127.0.0.1:${port}`,
    dataDir,
    proc: null,
    async start() {
      const proc = startCli(SERVER_CLI, ['serve'], serverEnv);
      server.proc = proc;
      await waitForHttp(`${server.url}/healthz`, 150_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${proc.output()}`);
      });
    },
    async stop(signal = 'SIGTERM') {
      await server.proc?.kill(signal);
      server.proc = null;
    },
    async destroy() {
      await server.stop('SIGKILL');
      await database?.drop();
      if (engines.cache === 'redis') await dropRedisKeys(process.env.REDIS_URL!, [`${keyPrefix}*`, `${queuePrefix}:*`]);
      await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    },
  };
  return server;
}
