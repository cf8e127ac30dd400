import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Env } from '../config/index.ts';
import { createLogger, type Logger } from '../obs/logger.ts';
import { createMetrics } from '../obs/metrics.ts';
import { migrate, openRelationalStore } from '../stores/relational/index.ts';
import { openCacheStore } from '../stores/cache/index.ts';
import { createSessions } from '../auth/sessions.ts';
import { createRateLimiter } from '../auth/rate-limit.ts';
import { createIngestLog } from '../ingest/ingest-log.ts';
import { createDrainer, type Drainer } from '../ingest/drainer.ts';
import { createIngestLogReader } from '../ingest/log-reader.ts';
import { drainerLagRows, trimIngestLog } from '../ingest/trimmer.ts';
import { createConfiguredSinks } from '../sinks/registry.ts';
import { every, type Periodic } from '../jobs/every.ts';
import { markQuietDevicesOffline } from '../jobs/offline-sweeper.ts';
import { vacuumEmbedded } from '../jobs/embedded-vacuum.ts';
import { createHttpServer } from '../http/server.ts';
import { ensureLocalAdminToken } from './local-admin.ts';
import { createAgentConnections } from './agent-connections.ts';
import { listenForDeviceControl } from './device-control.ts';
import type { Services } from './services.ts';
import { createLogShipper, shippingDestination, shippingLevel } from '../obs/log-shipper.ts';
import { instrumentDocumentStore, openDocumentStore, startDocumentJobs } from '../stores/documents/index.ts';
import { instrumentTimeSeriesStore, openTimeSeriesStore } from '../stores/timeseries/index.ts';
import { invalidateDeviceLists } from '../sinks/cache-sink.ts';
import { createCommandFeature } from '../commands/index.ts';
import { audit } from '../audit/index.ts';
import { openAnalytics } from '../analytics/open.ts';
import { startAnalyticsJobs } from '../analytics/jobs.ts';

const OFFLINE_SWEEP_MS = 5_000;
const TRIM_MS = 10_000;
const EMBEDDED_VACUUM_MS = 60_000;

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  drainers: Drainer[];
  /** Waits until every drainer has written everything logged so far. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** Extra HTTP routes (the console's static files). */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

async function openRelational(env: Env, log: Logger) {
  const db = await openRelationalStore({ databaseUrl: env.DATABASE_URL, dataDir: join(env.DATA_DIR, 'pglite') });
  try {
    const applied = await migrate(db);
    if (applied.length > 0) log.info({ engine: db.engine, applied }, 'database migrations applied');
    return db;
  } catch (error) {
    await db.close();
    throw error;
  }
}

async function openRelationalAndAnalytics(env: Env, deps: { metrics: ReturnType<typeof createMetrics>; log: Logger }) {
  const [relational, analytics] = await Promise.allSettled([openRelational(env, deps.log), openAnalytics(env, deps)]);
  if (relational.status === 'fulfilled' && analytics.status === 'fulfilled') return { db: relational.value, ...analytics.value };
  // One failed: close the other so a failed start leaves nothing open.
  if (relational.status === 'fulfilled') await relational.value.close();
  if (analytics.status === 'fulfilled') await analytics.value.apiCalls.close().then(() => analytics.value.analytics.close());
  throw relational.status === 'rejected' ? relational.reason : (analytics as PromiseRejectedResult).reason;
}

/** Builds every service from config, applies migrations, starts drainers, jobs and the HTTP port. */
export async function startServer(env: Env, options: StartOptions = {}): Promise<RunningServer> {
  // Warnings and errors also go to the documents store's `logs`, once it is open.
  const shipper = createLogShipper();
  const log = options.log ?? createLogger(shippingLevel(env.LOG_LEVEL), 'ninjait', shippingDestination(env.LOG_LEVEL, shipper));
  const instanceId = env.INSTANCE_ID ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const metrics = createMetrics();
  // The two embedded engines start side by side: chdb loads on its own threads while PGlite initialises.
  const { db, analytics, apiCalls } = await openRelationalAndAnalytics(env, { metrics, log });
  const cache = openCacheStore({ redisUrl: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX });
  const observer = { metrics, log, slowQueryMs: env.SLOW_QUERY_MS };
  const documents = instrumentDocumentStore(openDocumentStore({
    mongodbUrl: env.MONGODB_URL, mongodbDatabase: env.MONGODB_DATABASE, logRetentionDays: env.LOG_RETENTION_DAYS, db,
  }), observer);
  // A MongoDB that is down at start only delays its indexes (the upkeep job retries); writes wait in their buffers.
  await documents.init().catch((error: unknown) => log.warn({ err: error }, 'documents store not ready at start'));
  shipper.attach(documents, metrics);
  const timeseries = instrumentTimeSeriesStore(await openTimeSeriesStore(env, analytics, log), observer);

  // `services` is read when an entry is written, after it is built.
  const commandFeature = createCommandFeature({ env, db, cache, log, audit: (ip, event) => audit({ services, ip }, event) });
  const services: Services = {
    env, instanceId, log, metrics, db, cache, analytics, apiCalls, timeseries, documents,
    sessions: createSessions(cache),
    rateLimit: createRateLimiter(cache, { max: env.RATE_LIMIT_MAX, readMax: env.RATE_LIMIT_READ_MAX, windowSec: env.RATE_LIMIT_WINDOW_SEC }),
    ingest: createIngestLog(db, { groupCommitMs: env.INGEST_GROUP_COMMIT_MS, metrics }),
    agents: createAgentConnections(metrics),
    localAdminTokenHash: await ensureLocalAdminToken(env.DATA_DIR),
    ...commandFeature.services,
  };

  const sinks = await createConfiguredSinks({ env, db, cache, log, analytics });
  await Promise.all(sinks.map((sink) => sink.init()));
  // Room for a few batches: sinks a little behind the others still find their rows in memory.
  const reader = createIngestLogReader(db, { capacityRows: 3 * env.DRAIN_BATCH_ROWS });
  const drainers = sinks.map((sink) =>
    createDrainer({ db, reader, sink, instanceId, batchRows: env.DRAIN_BATCH_ROWS, pollMs: env.DRAIN_POLL_MS, metrics, log }));
  services.ingest.onAppended((rows) => {
    reader.remember(rows);
    drainers.forEach((drainer) => drainer.wake());
  });
  drainers.forEach((drainer) => drainer.start());

  const jobs: Periodic[] = [
    every(OFFLINE_SWEEP_MS, 'offline-sweeper', log, async () => {
      const offline = await markQuietDevicesOffline(db);
      if (offline.length > 0) log.info({ count: offline.length }, 'devices went offline');
      await invalidateDeviceLists(cache, offline.map((device) => device.organizationId));
    }),
    every(TRIM_MS, 'ingest-trim', log, async () => {
      await trimIngestLog(db, sinks.map((sink) => sink.name), env.INGEST_LOG_RETENTION_SEC);
      for (const [sink, lag] of await drainerLagRows(db)) metrics.drainerLagRows.set({ store: sink }, lag);
    }),
  ];

  if (db.engine === 'pglite') jobs.push(every(EMBEDDED_VACUUM_MS, 'embedded-vacuum', log, () => vacuumEmbedded(db)));
  jobs.push(...startAnalyticsJobs({ env, db, analytics, metrics, log, instanceId }));
  jobs.push(...startDocumentJobs({ env, db, documents, metrics, log }));

  const tls = env.TLS_CERT_FILE && env.TLS_KEY_FILE
    ? { cert: await readFile(env.TLS_CERT_FILE), key: await readFile(env.TLS_KEY_FILE) }
    : undefined;
  const stopDeviceControl = await listenForDeviceControl(cache, services.agents, log);
  const http = createHttpServer(services, options.routes, tls);
  await new Promise<void>((resolve, reject) => {
    http.server.once('error', reject);
    http.server.listen(env.PORT, env.HOST, () => resolve());
  });
  const { port } = http.server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${port}`;
  log.info({ url, instanceId, relational: db.engine, cache: cache.engine, sinks: sinks.map((sink) => sink.name) }, 'NinjaIT server listening');

  let closing: Promise<void> | null = null;
  return {
    url, port, services, drainers,
    async drained() {
      await services.ingest.flush();
      await Promise.all(drainers.map((drainer) => drainer.caughtUp()));
    },
    close() {
      closing ??= (async () => {
        await http.close();
        await services.ingest.flush();
        await Promise.all(jobs.map((job) => job.stop()));
        await commandFeature.stop();
        await Promise.all(drainers.map((drainer) => drainer.stop()));
        await Promise.all(sinks.map((sink) => sink.close()));
        await apiCalls.close();
        await shipper.close();
        await timeseries.close();
        await documents.close();
        await analytics.close();
        await stopDeviceControl().catch(() => undefined);
        await cache.close();
        await db.close();
        log.info('NinjaIT server stopped');
      })();
      return closing;
    },
  };
}

