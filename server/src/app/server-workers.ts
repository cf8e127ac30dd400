import cluster, { type Worker } from 'node:cluster';
import type { Env } from '../platform/config/index.ts';
import type { Logger } from '../platform/obs/logger.ts';
import { claimPort } from '../platform/http/listen.ts';
import { makeDataDirPrivate } from '../platform/data-dir.ts';
import { mergeWorkerMetrics } from '../platform/obs/cluster-metrics.ts';
import { ensureLocalAdminToken } from '../features/auth/local-admin.ts';
import { analyticsConfig, migratedAnalytics } from '../features/analytics/open.ts';
import { openAnalyticsStore, shareEmbeddedAnalytics, type AnalyticsConfig } from '../stores/analytics/index.ts';
import { loadServerSecretsKey, openRelational } from './create-app.ts';

/**
 * `serve` with WORKERS > 1: one server process per core behind one address. Node's cluster
 * module binds PORT once in this (primary) process and hands each new connection to the next
 * worker in turn; every worker is a whole server instance (its own event loop, sockets,
 * drainers and jobs), and they coordinate exactly as separate instances do: through PostgreSQL
 * (drainer and job leases) and Redis (command routing, sessions). The primary serves no request:
 * it prepares DATA_DIR and the schemas once, relays the workers' calls to embedded chdb,
 * merges their /metrics, and starts a worker again when one dies.
 */

/** A worker that died is started again after this long, doubling while it keeps dying young. */
const RESTART_FIRST_MS = 1_000;
const RESTART_MAX_MS = 30_000;
/** A worker that ran this long before it died was healthy: the next restart waits the first delay again. */
const HEALTHY_AFTER_MS = 60_000;
/** How long stopping workers may take (closing sockets, flushing the log) before they are killed. */
const STOP_WAIT_MS = 60_000;

/** What the primary sends a worker to stop it gracefully (see `stopWhenPrimaryAsks`). */
const STOP_MESSAGE = { ninjaitWorker: 'stop' } as const;

export interface ServerWorkers {
  /** The address every worker serves. */
  url: string;
  /** Stops every worker (gracefully, then by force), then the embedded chdb. */
  stop(): Promise<void>;
}

/** Prepared once so the workers do not race to make them: the folder, the local admin token, the secrets key, the schemas. */
async function prepareShared(env: Env, log: Logger, analyticsAt: AnalyticsConfig) {
  makeDataDirPrivate(env.DATA_DIR, log);
  await ensureLocalAdminToken(env.DATA_DIR);
  await loadServerSecretsKey(env, log);
  await (await openRelational(env, log)).close();
  await (await migratedAnalytics(openAnalyticsStore(analyticsAt), log)).close();
}

export async function startServerWorkers(env: Env, log: Logger): Promise<ServerWorkers> {
  // A busy port stops the start before anything is opened, as with one process; the workers
  // bind it through this process a moment later.
  await (await claimPort(env.PORT, env.HOST)).release();
  const analytics = analyticsConfig(env);
  // Shared before the migrations run, so they and the workers use one chdb process.
  const stopSharingAnalytics = shareEmbeddedAnalytics(analytics);
  const stopMergingMetrics = mergeWorkerMetrics();
  const cleanUp = async () => {
    stopMergingMetrics();
    await stopSharingAnalytics();
  };
  try {
    await prepareShared(env, log, analytics);
  } catch (error) {
    await cleanUp();
    throw error;
  }

  // Strings (chdb's inserts, metrics) cross the channel without JSON's escaping.
  cluster.setupPrimary({ serialization: 'advanced' });
  let stopping = false;
  const slots: { worker: Worker; startedAt: number; delayMs: number }[] = [];
  const forkWorker = (index: number, delayMs: number) => {
    // Leases name their holder: workers must not share a name, even when INSTANCE_ID is set.
    const worker = cluster.fork(env.INSTANCE_ID ? { INSTANCE_ID: `${env.INSTANCE_ID}:w${index + 1}` } : {});
    slots[index] = { worker, startedAt: Date.now(), delayMs };
    return worker;
  };

  const listening = Promise.all(Array.from({ length: env.WORKERS }, (_, index) => new Promise<string>((resolve, reject) => {
    const worker = forkWorker(index, RESTART_FIRST_MS);
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`server worker ${index + 1} of ${env.WORKERS} ended before it listened (${signal ?? `exit code ${code}`}); its messages above say why`));
    worker.once('exit', onExit);
    worker.once('listening', (address) => {
      worker.off('exit', onExit);
      const host = address.address && address.address !== '::' ? address.address : env.HOST;
      resolve(`http${env.TLS_CERT_FILE ? 's' : ''}://${host.includes(':') ? `[${host}]` : host}:${address.port}`);
    });
  })));

  const stopWorkers = async () => {
    stopping = true;
    const alive = slots.map((slot) => slot.worker).filter((worker) => !worker.isDead());
    await Promise.all(alive.map((worker) => new Promise<void>((resolve) => {
      const timer = setTimeout(() => worker.process.kill('SIGKILL'), STOP_WAIT_MS);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (worker.isConnected()) worker.send(STOP_MESSAGE);
      else worker.process.kill('SIGTERM');
    })));
  };

  let url: string;
  try {
    [url] = (await listening) as [string];
  } catch (error) {
    await stopWorkers();
    await cleanUp();
    throw error;
  }

  // Started: from now on a worker that dies is replaced, and the others keep serving meanwhile
  // (its agents reconnect to them).
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const index = slots.findIndex((slot) => slot.worker === worker);
    if (index < 0) return;
    const slot = slots[index]!;
    const delayMs = Date.now() - slot.startedAt >= HEALTHY_AFTER_MS ? RESTART_FIRST_MS : slot.delayMs;
    log.error({ worker: index + 1, pid: worker.process.pid, code, signal, restartInMs: delayMs }, 'a server worker ended; starting another');
    setTimeout(() => {
      if (!stopping) forkWorker(index, Math.min(RESTART_MAX_MS, delayMs * 2));
    }, delayMs).unref();
  });
  log.info({ url, workers: env.WORKERS, pids: slots.map((slot) => slot.worker.process.pid) }, 'NinjaIT server workers listening');

  let stopped: Promise<void> | null = null;
  return {
    url,
    stop() {
      stopped ??= (async () => {
        await stopWorkers();
        await cleanUp();
        log.info('NinjaIT server workers stopped');
      })();
      return stopped;
    },
  };
}

/**
 * In a worker: stop gracefully when the primary says so (or on SIGTERM, e.g. to recycle one
 * worker, which the primary then replaces). Ctrl-C reaches every process of the terminal's group:
 * the workers leave it to the primary, which stops them in order.
 */
export function stopWhenPrimaryAsks(stop: () => Promise<void>): void {
  let stopping: Promise<void> | null = null;
  const stopOnce = () => {
    stopping ??= stop().then(() => process.exit(0), (error: unknown) => {
      process.stderr.write(`worker shutdown failed: ${(error as Error).message}\n`);
      process.exit(1);
    });
  };
  process.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && (message as { ninjaitWorker?: unknown }).ninjaitWorker === STOP_MESSAGE.ninjaitWorker) stopOnce();
  });
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', stopOnce);
}
