import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropRedisKeys, createScratchDatabase } from '@ninjait/server/testing';
import { freePort, SERVER_CLI, startCli, waitForHttp, type Proc } from '../support/processes.ts';

/**
 * What the edge tests share: a real `ninjait serve` process on either engine pair, cleaned up
 * completely (scratch database, its own Redis key space, data folder), and a raw TCP client
 * for requests no HTTP library would send.
 */

export interface ServerVariant {
  name: string;
  engines: 'embedded' | 'postgres+redis';
}

/** The embedded engines always; PostgreSQL with Redis when both are configured. */
export function serverVariants(): ServerVariant[] {
  const variants: ServerVariant[] = [{ name: 'PGlite + in-process cache', engines: 'embedded' }];
  if (process.env.DATABASE_URL && process.env.REDIS_URL) variants.push({ name: 'PostgreSQL + Redis', engines: 'postgres+redis' });
  else console.warn('DATABASE_URL and REDIS_URL are not both set: the PostgreSQL + Redis variant of this edge test is skipped (PGlite runs)');
  return variants;
}

export interface SpawnedServer {
  url: string;
  port: number;
  dataDir: string;
  proc: Proc;
  /** The process has not exited. */
  alive(): boolean;
  /** Stops the process and removes its database, keys and folder. */
  stop(): Promise<void>;
}

/** `ninjait serve` on a free port, answering /healthz; `env` adds to (or overrides) the defaults. */
export async function spawnServer(variant: ServerVariant, env: Record<string, string> = {}): Promise<SpawnedServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ninjait-edge-'));
  const port = await freePort();
  const run = randomBytes(4).toString('hex');
  const database = variant.engines === 'postgres+redis' ? await createScratchDatabase(process.env.DATABASE_URL, 'ninjait_edge') : null;
  const keyPrefix = `edge:${run}:`;
  const queuePrefix = `edge${run}`;
  const proc = startCli(SERVER_CLI, ['serve'], {
    PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn',
    ...(database ? { DATABASE_URL: database.url, REDIS_URL: process.env.REDIS_URL!, REDIS_KEY_PREFIX: keyPrefix, QUEUE_PREFIX: queuePrefix } : {}),
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await proc.kill('SIGKILL');
    await database?.drop();
    if (database) await dropRedisKeys(process.env.REDIS_URL!, [`${keyPrefix}*`, `${queuePrefix}:*`]);
    await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  };
  try {
    await waitForHttp(`${url}/healthz`, 150_000);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${proc.output()}`);
  }
  return { url, port, dataDir, proc, alive: () => proc.child.exitCode === null && proc.child.signalCode === null, stop };
}

export interface RawAnswer {
  /** The status line's code, 0 when the server closed without one (or the wait ran out). */
  status: number;
  text: string;
}

/** Sends bytes as they are and reads what comes back until the server closes or `waitMs` passes. */
export function rawRequest(port: number, bytes: Buffer | string, waitMs = 3_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (chunk: Buffer) => {
      // The status line and headers are all we read; a large body is not worth keeping.
      if (size < 64 * 1024) chunks.push(chunk);
      size += chunk.length;
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('connect', () => socket.write(bytes));
  });
}
