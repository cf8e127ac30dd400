import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropRedisKeys } from '@ninjait/server/testing';
import { trpcHttp } from './http-trpc.ts';
import { scrapeMetrics, type MetricValues } from './metrics.ts';
import { progress, waitFor } from './progress.ts';
import { scratchDatabase, type StoreChoice } from './stores.ts';
import { scratchDir } from './scratch.ts';
import { onServerCpus } from './cpu-split.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SERVER_CLI = join(REPO_ROOT, 'server/src/cli/main.ts');
const LOCAL_ADMIN_HEADER = 'x-ninjait-admin';

/**
 * Server settings every benchmark uses. Rate limits are lifted: they guard against people,
 * and a benchmark that enrolls thousands of agents from a few addresses is not one.
 */
export const BENCH_SERVER_ENV: Record<string, string> = {
  LOG_LEVEL: 'warn',
  RATE_LIMIT_MAX: '1000000',
  // agent.enroll allows 30 attempts per address per window: a 1 s window lets a fleet enroll.
  RATE_LIMIT_WINDOW_SEC: '1',
  // Thousands of simulated agents share a few 127.0.0.x addresses and connect before they authenticate.
  WS_UNAUTH_PER_IP_MAX: '100000',
  // Webhooks go to receivers the benchmarks run on this machine.
  WEBHOOK_ALLOW_PRIVATE: '1',
};

export interface ServerOptions {
  stores: StoreChoice;
  env?: Record<string, string>;
  /** Directory for `--cpu-prof` output; no profiling when unset. */
  cpuProfDir?: string;
  /** Extra instances on the same database and cache (needs PostgreSQL). */
  instances?: number;
  /** Reuse a database instead of creating a scratch one (the caller drops it). */
  databaseUrl?: string;
  /** Start the first instance on this DATA_DIR (pre-filled PGlite); the caller removes it. */
  dataDir?: string;
  /** Server processes per instance behind its one port (WORKERS; needs PostgreSQL and Redis). */
  workers?: number;
}

export interface ServerInstance {
  url: string;
  pid: number;
  dataDir: string;
  process: ChildProcess;
}

export interface ServerUnderTest {
  /** The first instance: admin calls and the dashboard go here. */
  url: string;
  pid: number;
  instances: ServerInstance[];
  dataDir: string;
  env: Record<string, string>;
  admin<T>(path: string, type: 'query' | 'mutation', input?: unknown): Promise<T>;
  metrics(instance?: number): Promise<MetricValues>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A loaded 2-core machine took 134 s to the first /healthz (PGlite and chdb starting side by side). */
const HEALTHY_WITHIN_MS = 180_000;

/** Every server process still running, so an interrupted run does not leave them behind. */
const running = new Set<ChildProcess>();

/**
 * Kills a server and everything it started (its workers under WORKERS, its chdb): each server
 * runs in a process group of its own, and the whole group goes. A worker whose primary was
 * killed is meant to exit by itself, but one under tsx's loader thread was once seen to hang in
 * its own exit; the group kill leaves nothing behind either way.
 */
function killServerGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** Kills every server this process started (SIGINT/SIGTERM on the bench). */
export function killServers(): void {
  for (const child of running) killServerGroup(child);
}

/** BENCH_SERVER_NODE_ARGS: node flags for every server a benchmark starts (NODE_OPTIONS refuses some, like --trace-gc). */
const extraNodeArgs = () => (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg.length > 0);

async function spawnInstance(env: Record<string, string>, cpuProfDir: string | undefined, logFile: string, givenDataDir?: string): Promise<ServerInstance & { ownsDataDir: boolean }> {
  const port = await freePort();
  const dataDir = givenDataDir ?? await scratchDir('ninjait-bench-server-');
  const args = [...extraNodeArgs(), ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : []), '--import', 'tsx', SERVER_CLI, 'serve'];
  const start = onServerCpus(process.execPath, args);
  const child = spawn(start.command, start.args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that killing it reaches its workers and chdb too (killServerGroup).
    detached: true,
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const instance = { url, pid: child.pid!, dataDir, process: child, ownsDataDir: !givenDataDir };
  try {
    await waitFor('the server to answer /healthz', async () => {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}; see ${logFile}`);
      return fetch(`${url}/healthz`).then((res) => res.ok, () => false);
    }, HEALTHY_WITHIN_MS, 100);
  } catch (error) {
    // A server that never answered is still running: left alone, it kept the bench from exiting.
    await stopInstance(instance);
    throw error;
  }
  return instance;
}

async function stopInstance(instance: ServerInstance & { ownsDataDir: boolean }): Promise<void> {
  const child = instance.process;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => killServerGroup(child), 30_000);
    await exited;
    clearTimeout(timer);
  }
  // Stopped or not, nothing it started outlives it.
  killServerGroup(child);
  if (instance.ownsDataDir) await rm(instance.dataDir, { recursive: true, force: true });
}

/** Runs the server as its own process (so its RSS and CPU are its own), as `ninjait serve` would. */
export async function startServerUnderTest(options: ServerOptions): Promise<ServerUnderTest> {
  const scratch = options.stores.databaseUrl && !options.databaseUrl ? await scratchDatabase(options.stores.databaseUrl) : null;
  const databaseUrl = options.databaseUrl ?? scratch?.url;
  const keySpace = `ninjait-bench-${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    ...BENCH_SERVER_ENV,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    // A key space per run, removed at stop: benchmarks on a shared Redis leave nothing behind.
    ...(options.stores.redisUrl ? { REDIS_URL: options.stores.redisUrl, REDIS_KEY_PREFIX: `${keySpace}:`, QUEUE_PREFIX: keySpace } : {}),
    ...options.env,
    ...(options.workers && options.workers > 1 ? { WORKERS: String(options.workers) } : {}),
  };
  // Not scratch: a run that ends badly keeps its servers' logs for the person reading why.
  const logDir = await mkdtemp(join(tmpdir(), 'ninjait-bench-log-'));
  const instances: (ServerInstance & { ownsDataDir: boolean })[] = [];
  try {
    // Sequential: the first one migrates, the others find the schema in place.
    for (let i = 0; i < (options.instances ?? 1); i++) {
      instances.push(await spawnInstance({ ...env, INSTANCE_ID: `bench-${i}` }, options.cpuProfDir, join(logDir, `server-${i}.log`),
        i === 0 ? options.dataDir : undefined));
    }
  } catch (error) {
    await Promise.all(instances.map(stopInstance));
    await scratch?.drop();
    throw error;
  }
  const first = instances[0]!;
  progress(`  server: ${instances.length} instance(s) at ${first.url}, logs in ${logDir}`);
  const adminToken = (await readFile(join(first.dataDir, 'admin-token'), 'utf8')).trim();
  return {
    url: first.url,
    pid: first.pid,
    instances,
    dataDir: first.dataDir,
    env,
    admin: (path, type, input) => trpcHttp(first.url, path, type, input, { headers: { [LOCAL_ADMIN_HEADER]: adminToken } }),
    metrics: (i = 0) => scrapeMetrics(instances[i]!.url),
    async stop() {
      await Promise.all(instances.map(stopInstance));
      // The logs are for finding out what went wrong: kept (and named) only when a server did not stop cleanly.
      const clean = instances.every((instance) => instance.process.exitCode === 0);
      // Flags like --trace-gc write to the log: it is what they were asked for.
      if (clean && extraNodeArgs().length === 0) await rm(logDir, { recursive: true, force: true });
      else progress(`  server logs kept in ${logDir}`);
      await scratch?.drop();
      if (env.REDIS_URL) await dropRedisKeys(env.REDIS_URL, [`${keySpace}:*`]);
    },
  };
}

/** An organization and an enrollment token good for `uses` agents. */
export async function createFleetToken(server: ServerUnderTest, uses: number, org = `bench-${randomBytes(4).toString('hex')}`): Promise<{ token: string; organizationId: string }> {
  const organization = await server.admin<{ id: string }>('admin.organizations.create', 'mutation', { name: org });
  const { token } = await server.admin<{ token: string }>('admin.tokens.create', 'mutation', {
    org: organization.id, name: 'bench fleet', maxUses: Math.max(1, Math.min(100_000, uses)), expiresInSec: 24 * 3600,
  });
  return { token, organizationId: organization.id };
}

/** The run's shared server when there is one (the smoke test), else a fresh one stopped after `fn`. */
export async function withServer<T>(ctx: { sharedServer?: ServerUnderTest | undefined }, options: ServerOptions, fn: (server: ServerUnderTest) => Promise<T>): Promise<T> {
  if (ctx.sharedServer) return fn(ctx.sharedServer);
  const server = await startServerUnderTest(options);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}
