import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_CLI, SERVER_CLI, freePort, runCli, startCli, waitFor, waitForHttp, type Proc } from '../../support/processes.ts';
import { startClickhouseFront, type ClickhouseProcess } from '../../support/clickhouse-front.ts';
import { localAdminClient } from '@ninjait/server/cli/client';
import { readOutboxStats, readConfig, resolvePaths } from '@ninjait/agent';
import { startPrivatePostgres, startPrivateRedis, startPrivateVictoriaMetrics, type PrivatePostgres, type PrivateRedis, type PrivateVictoriaMetrics } from '../../support/private-stores.ts';

/** Agents sample every second in fault tests: a 15 s outage is 15 samples per agent. */
export const INTERVAL_MS = 1_000;

/** Private stores for one test file: nothing here touches the machine's shared PostgreSQL or Redis. */
export interface Stack {
  dir: string;
  pg: PrivatePostgres;
  redis: PrivateRedis;
  clickhouse: ClickhouseProcess | null;
  victoria: PrivateVictoriaMetrics | null;
  close(): Promise<void>;
}

/**
 * Starts the private stores side by side. If any fails, the others are stopped and the folder
 * removed before the error is thrown: a failed start leaves no process or folder behind.
 */
export async function startStack(options: { clickhouse?: boolean; victoria?: boolean } = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'ninjait-faults-'));
  await chmod(dir, 0o755); // the postgres user must reach its folder inside
  const [pg, redis, clickhouse, victoria] = await Promise.allSettled([
    startPrivatePostgres(join(dir, 'pg')),
    startPrivateRedis(),
    options.clickhouse ? startClickhouseFront(join(dir, 'clickhouse')) : null,
    options.victoria ? startPrivateVictoriaMetrics(join(dir, 'victoria')) : null,
  ]);
  const value = <T>(result: PromiseSettledResult<T>) => (result.status === 'fulfilled' ? result.value : null);
  const close = async () => {
    await Promise.all([value(pg)?.destroy(), value(redis)?.kill(), value(clickhouse)?.kill(), value(victoria)?.kill()]);
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  };
  const failure = [pg, redis, clickhouse, victoria].find((result) => result.status === 'rejected');
  if (failure) {
    await close();
    throw failure.reason;
  }
  return { dir, pg: value(pg)!, redis: value(redis)!, clickhouse: value(clickhouse), victoria: value(victoria), close };
}

/** A real `ninjait serve` process. */
export class ServerProcess {
  proc: Proc | null = null;
  readonly env: Record<string, string>;
  constructor(readonly dataDir: string, readonly port: number, env: Record<string, string>) {
    this.env = {
      PORT: String(port), DATA_DIR: dataDir, AGENT_INTERVAL_MS: String(INTERVAL_MS), INGEST_LOG_RETENTION_SEC: '3600',
      LOG_LEVEL: 'warn', RATE_LIMIT_WINDOW_SEC: '1', DRAIN_POLL_MS: '100', ...env,
    };
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<number> {
    const started = performance.now();
    this.proc = startCli(SERVER_CLI, ['serve'], this.env);
    const proc = this.proc;
    await waitFor(`${this.url}/readyz`, async () => {
      if (proc.child.exitCode !== null) throw new Error(`server exited ${proc.child.exitCode}:\n${proc.output()}`);
      return (await fetch(`${this.url}/readyz`)).ok;
    }, 120_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${proc.output()}`);
    });
    return Math.round(performance.now() - started);
  }

  kill(signal: NodeJS.Signals = 'SIGTERM') {
    return this.proc?.kill(signal) ?? Promise.resolve(0);
  }

  cli(args: string[]) {
    return runCli(SERVER_CLI, [...args, '--server', this.url, '--data-dir', this.dataDir]);
  }

  /**
   * Creates an organization and an enrollment token as the local admin (what `ninjait org create`
   * and `ninjait token create` do, through the same client, without ~3 s of CLI start-up each).
   */
  async enrollmentToken(org: string): Promise<string> {
    const client = await localAdminClient({ server: this.url, 'data-dir': this.dataDir });
    await client.admin.organizations.create.mutate({ name: org });
    const { token } = await client.admin.tokens.create.mutate({ org, maxUses: 1000 });
    return token;
  }

  async metric(name: string): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  }
}

/** A server on the stack's PostgreSQL (a fresh database) and Redis, its own DATA_DIR. */
export async function newServer(stack: Stack, options: { database?: string; env?: Record<string, string>; name?: string } = {}) {
  const database = options.database ?? `faults_${randomBytes(4).toString('hex')}`;
  const databaseUrl = options.database ? stack.pg.url(database) : await stack.pg.createDatabase(database);
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl, REDIS_URL: stack.redis.url, QUEUE_PREFIX: `faults-${database}`,
    ...(stack.clickhouse ? { CLICKHOUSE_URL: stack.clickhouse.url } : {}),
    ...(stack.victoria ? { INFLUX_URL: stack.victoria.url, INFLUX_TOKEN: 'unused', INFLUX_ORG: 'faults', INFLUX_BUCKET: 'faults' } : {}),
    ...options.env,
  };
  return { server: new ServerProcess(join(stack.dir, options.name ?? `server-${database}`), await freePort(), env), database, databaseUrl };
}

export interface AgentStatus {
  deviceId: string;
  outbox: { bufferedRecords: number; bufferedBytes: number; droppedTotal: number; nextSeq: number };
}

/** A real `ninjait-agent` with its own data dir (its "machine"). */
export class AgentProcess {
  proc: Proc | null = null;
  constructor(readonly dataDir: string, readonly extraArgs: string[] = []) {}

  async enroll(serverUrl: string, token: string) {
    await runCli(AGENT_CLI, ['enroll', '--server', serverUrl, '--token', token, '--data-dir', this.dataDir]);
  }

  start() {
    this.proc = startCli(AGENT_CLI, ['run', '--data-dir', this.dataDir, '--interval-ms', String(INTERVAL_MS), ...this.extraArgs], { LOG_LEVEL: 'warn' });
  }

  kill(signal: NodeJS.Signals = 'SIGTERM') {
    return this.proc?.kill(signal) ?? Promise.resolve(0);
  }

  /** What `ninjait-agent status --json` prints, read in process by the same code (a CLI run costs ~2 s of tsx start-up). */
  async status(): Promise<AgentStatus> {
    const paths = resolvePaths({ dataDir: this.dataDir });
    const outbox = readOutboxStats(paths.outboxFile);
    const config = readConfig(paths.configFile);
    if (!outbox || !config) throw new Error(`agent ${this.dataDir} has no outbox or config yet`);
    return { deviceId: config.deviceId, outbox };
  }

  /** `ninjait-agent status --json` itself. */
  async cliStatus(): Promise<AgentStatus> {
    return JSON.parse(await runCli(AGENT_CLI, ['status', '--json', '--data-dir', this.dataDir, ...this.extraArgs])) as AgentStatus;
  }

  /** Waits until everything collected so far has been acknowledged. */
  async drained(timeoutMs = 60_000): Promise<AgentStatus> {
    return waitFor(`agent ${this.dataDir} to drain`, async () => {
      const status = await this.status();
      return status.outbox.bufferedRecords === 0 ? status : null;
    }, timeoutMs, 250);
  }
}

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Prints a case's figures in one line the RELIABILITY.md figures are taken from. */
export function report(name: string, figures: Record<string, unknown>) {
  console.log(`FAULT-FIGURES ${JSON.stringify({ case: name, ...figures })}`);
}

export { waitForHttp };

const startedAt = Date.now();
/** Progress lines, so a slow or stuck case shows where it is. */
export function step(message: string) {
  console.log(`[faults +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${message}`);
}
