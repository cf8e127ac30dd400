import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Env } from '../platform/config/index.ts';
import { createLogger, type Logger } from '../platform/obs/logger.ts';
import { createMetrics } from '../platform/obs/metrics.ts';
import { clusterRegistry } from '../platform/obs/cluster-metrics.ts';
import { createWarnLimiter } from '../platform/obs/warn-limiter.ts';
import { createJobLeases, instrumentRelationalStore, migrate, openRelationalStore, type RelationalStore } from '../stores/relational/index.ts';
import { instrumentCacheStore, openCacheStore } from '../stores/cache/index.ts';
import { chooseSessionStore, createSessions } from '../features/auth/sessions.ts';
import { createRateLimiter } from '../features/auth/rate-limit.ts';
import { createEnrollmentLimit } from '../features/enrollment/enrollment-limit.ts';
import { createApiKeys } from '../features/api-keys/index.ts';
import { createIngestLog } from '../features/ingest/ingest-log.ts';
import { createDrainer, type Drainer } from '../features/ingest/drainer.ts';
import { createIngestLogReader } from '../features/ingest/log-reader.ts';
import { createConfiguredSinks } from '../features/ingest/sinks/registry.ts';
import { createScheduler } from '../platform/scheduler/scheduler.ts';
import { createProcessLeases } from '../platform/scheduler/process-leases.ts';
import type { JetStreamIngest } from '../features/ingest/jetstream/index.ts';
import { createHttpServer } from '../platform/http/server.ts';
import { readiness } from '../platform/http/probes.ts';
import { createContext, localAdminAddress } from '../platform/trpc/context.ts';
import type { CallerGate } from '../platform/trpc/caller.ts';
import { handleDownloads } from '../features/updates/downloads.ts';
import { createAppRouter, type AppRouter } from './router.ts';
import { createCallerGate } from './caller-gate.ts';
import { storeHealthChecks } from './store-health.ts';
import { listenOn, type ClaimedPort } from '../platform/http/listen.ts';
import { ensureLocalAdminToken } from '../features/auth/local-admin.ts';
import { sealStoredClientSecrets } from '../features/auth/index.ts';
import { createSecretBox, loadSecretsKey, SECRETS_KEY_FILE, type SecretBox } from '../platform/secret-box.ts';
import { DEFAULT_PASSWORD_HASH_COST, setPasswordHashCost } from '../platform/secrets.ts';
import { createAgentConnections } from '../features/devices/agent-connections.ts';
import { listenForDeviceControl } from '../features/devices/device-control.ts';
import type { Services } from './services.ts';
import { createRestHandler } from './rest/handler.ts';
import { oidcRoutes } from '../features/auth/oidc-routes.ts';
import { createLogShipper, shippingDestination, shippingLevel } from '../features/logs/log-shipper.ts';
import { instrumentDocumentStore, openDocumentStore } from '../stores/documents/index.ts';
import { instrumentTimeSeriesStore, openTimeSeriesStore } from '../stores/timeseries/index.ts';
import { createCommandFeature } from './command-feature.ts';
import { localAdminRequester } from '../features/commands/index.ts';
import { createRemoteFeature } from '../features/remote/index.ts';
import { createAudit } from '../features/audit/index.ts';
import { createScriptService, scriptJobs } from '../features/scripts/index.ts';
import { openAnalytics } from '../features/analytics/open.ts';
import { analyticsJobs } from '../features/analytics/jobs.ts';
import { deviceJobs } from '../features/devices/jobs.ts';
import { ingestJobs } from '../features/ingest/jobs.ts';
import { logJobs } from '../features/logs/jobs.ts';
import { storeJobs } from './store-jobs.ts';
import { createAlertSink, createSlowQueryAlerts, alertJobs, channelSource } from '../features/alerts/index.ts';
import { createDelivery, createEventPublisher, subscriptionSource, type Dispatcher } from '../features/webhooks/index.ts';
import { releaseCatalog, releasesDir } from '../features/updates/releases.ts';
import { createPatchingService, patchingJobs } from '../features/patching/index.ts';
import { resolveScopes } from '../features/fleet/index.ts';

/** Patch deployments of one organization offered or running at once. */
const PATCH_ORG_CONCURRENCY = 50;
/**
 * The drainers' idle poll on the embedded database, whatever DRAIN_POLL_MS says: at 250 ms the
 * five drainers' reads were two thirds of an idle server's statements (20 a second, in WASM).
 */
const EMBEDDED_DRAIN_POLL_MS = 5_000;

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  /** The API as this server serves it, and how its callers are proven (for callers built in-process). */
  router: AppRouter;
  gate: CallerGate;
  drainers: Drainer[];
  /** The outbox's sender on this instance, alert channels and event webhooks alike (tests flush it). */
  notifications: Dispatcher;
  /** Waits until every drainer has written everything logged so far. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** Extra HTTP routes (the console's static files). */
  routes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** The address `serve`/`start` bound before opening anything (see `claimPort`); else PORT and HOST are bound here. */
  port?: ClaimedPort;
  /** One of `serve`'s workers (WORKERS > 1): /metrics answers for all of them (see cluster-metrics.ts). */
  clusterWorker?: boolean;
}

/** The relational store from config with its migrations applied (logged when there were any); closed when they fail. */
export async function openRelational(env: Env, log: Logger) {
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

/** The secrets key (SECRETS_KEY, else DATA_DIR's, made at first start), saying when it was made and when it must be shared. */
export async function loadServerSecretsKey(env: Env, log: Logger): Promise<Buffer> {
  const loaded = await loadSecretsKey(env.SECRETS_KEY, env.DATA_DIR);
  if (loaded.generated) log.info({ file: join(env.DATA_DIR, SECRETS_KEY_FILE) }, 'made a new secrets key: back it up with DATA_DIR, stored secrets cannot be read without it');
  if (loaded.source === 'file' && env.DATABASE_URL) {
    log.warn('SECRETS_KEY is not set: using the key in DATA_DIR; every server sharing this database must be given the same key (SECRETS_KEY)');
  }
  return loaded.key;
}

/**
 * The key that seals secrets the server reads back, and the plaintext ones of older installs sealed
 * with it before anything serves (migration 027 marked them).
 */
async function openSecretBox(env: Env, db: RelationalStore, log: Logger): Promise<SecretBox> {
  const box = createSecretBox(await loadServerSecretsKey(env, log));
  const sealed = await sealStoredClientSecrets(db, box);
  if (sealed > 0) log.info({ sealed }, 'single sign-on client secrets encrypted at rest');
  return box;
}

/** New password hashes get PASSWORD_HASH_COST; under OWASP's floor is said at every start. */
function usePasswordHashCost(env: Env, log: Logger): void {
  setPasswordHashCost(env.PASSWORD_HASH_COST);
  if (env.PASSWORD_HASH_COST < DEFAULT_PASSWORD_HASH_COST) {
    log.warn({ cost: env.PASSWORD_HASH_COST }, `PASSWORD_HASH_COST is under ${DEFAULT_PASSWORD_HASH_COST} (OWASP's floor for scrypt): passwords set now are cheaper to guess; for test runs only`);
  }
}

/** Builds every service from config, applies migrations, starts drainers, jobs and the HTTP port. */
export async function startServer(env: Env, options: StartOptions = {}): Promise<RunningServer> {
  // Warnings and errors also go to the documents store's `logs`, once it is open.
  const shipper = createLogShipper();
  const log = options.log ?? createLogger(shippingLevel(env.LOG_LEVEL), 'ninjait', shippingDestination(env.LOG_LEVEL, shipper));
  usePasswordHashCost(env, log);
  const instanceId = env.INSTANCE_ID ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const metrics = createMetrics();
  // The two embedded engines start side by side: chdb loads on its own threads while PGlite initialises.
  const { db: relational, analytics, apiCalls } = await openRelationalAndAnalytics(env, { metrics, log });
  // Slow queries become system alerts, written through the store without the observer (no loop).
  const slowQueryAlerts = createSlowQueryAlerts(relational, log, env.SLOW_QUERY_MS);
  const observer = { metrics, log, slowQueryMs: env.SLOW_QUERY_MS, warnLimiter: createWarnLimiter(), onSlowQuery: slowQueryAlerts.record };
  const db = instrumentRelationalStore(relational, observer);
  const cache = instrumentCacheStore(openCacheStore({ redisUrl: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX }), observer);
  const documents = instrumentDocumentStore(await openDocumentStore({
    mongodbUrl: env.MONGODB_URL, mongodbDatabase: env.MONGODB_DATABASE, logRetentionDays: env.LOG_RETENTION_DAYS, db,
  }), observer);
  // A MongoDB that is down at start only delays its indexes (the upkeep job retries); writes wait in their buffers.
  await documents.init().catch((error: unknown) => log.warn({ err: error }, 'documents store not ready at start'));
  shipper.attach(documents, metrics);
  const timeseries = instrumentTimeSeriesStore(await openTimeSeriesStore(env, analytics, log), observer);

  // Features publish what happens (devices, commands, tickets, alerts) through this port; event webhooks deliver it.
  const events = createEventPublisher();
  // Alerts judge metric conditions as one more consumer of the ingest log, with its own cursor.
  const sinks = [...await createConfiguredSinks({ env, db, cache, log, analytics, events }), createAlertSink(db, log, events)];
  await Promise.all(sinks.map((sink) => sink.init()));
  // INGEST_LOG_URL: the log, its drainers and command routing on NATS JetStream instead of PostgreSQL and the cache.
  // Loaded only then: the NATS clients are 70 files every other start would parse for nothing.
  const jetStream: JetStreamIngest | null = env.INGEST_LOG_URL
    ? await (await import('../features/ingest/jetstream/index.ts')).openJetStreamIngest({
      url: env.INGEST_LOG_URL, stream: env.INGEST_LOG_STREAM, replicas: env.INGEST_LOG_REPLICAS,
      duplicateWindowSec: env.INGEST_LOG_DUPLICATE_WINDOW_SEC, maxDeliveries: env.INGEST_LOG_MAX_DELIVERIES,
      groupCommitMs: env.INGEST_GROUP_COMMIT_MS, batchRows: env.DRAIN_BATCH_ROWS, clientName: `ninjait ${instanceId}`,
    }, { db, metrics, log, sinkNames: sinks.map((sink) => sink.name) })
    : null;

  const audit = createAudit({ documents, log, metrics });
  // Entries written by features outside a request: the feature passes the organization and, when there is one, the user.
  const auditByAddress = (ip: string | null, event: Parameters<typeof audit>[1]) => audit({ ip }, event);
  const commandFeature = await createCommandFeature({
    env, db, cache, log, events, audit: auditByAddress, ...(jetStream ? { bus: jetStream.bus } : {}),
  });
  const apiKeys = createApiKeys(db);
  const agents = createAgentConnections(metrics);
  const remoteFeature = createRemoteFeature({
    db, cache, log, audit: auditByAddress, local: commandFeature.services.commands.local,
    deviceOf: agents.deviceOf,
    sendUploadFrame: agents.sendUploadFrame,
    metrics,
    localAdmin: (req) => {
      const admin = localAdminAddress(req, services.localAdminTokenHash);
      return admin ? localAdminRequester(admin.ip) : null;
    },
    // As the gate proves them (createCallerGate); read when a request comes, once `services` is built.
    people: {
      session: (token) => services.sessions.get(token),
      apiKey: (key, path, type, ip) => apiKeys.authorize(key, path, type, ip),
    },
  });
  const rateLimit = createRateLimiter(cache, { max: env.RATE_LIMIT_MAX, readMax: env.RATE_LIMIT_READ_MAX, windowSec: env.RATE_LIMIT_WINDOW_SEC });
  const services: Services = {
    env, instanceId, log, metrics, db, cache, analytics, apiCalls, timeseries, documents, events, audit,
    sessions: createSessions(cache, { store: chooseSessionStore(cache, db), apiKeyHolder: (key) => apiKeys.holder(key) }),
    apiKeys,
    rateLimit,
    enrollmentLimit: createEnrollmentLimit(rateLimit),
    ingest: jetStream?.log ?? createIngestLog(db, { groupCommitMs: env.INGEST_GROUP_COMMIT_MS, metrics, log }),
    agents,
    secretBox: await openSecretBox(env, db, log),
    localAdminTokenHash: await ensureLocalAdminToken(env.DATA_DIR),
    ...commandFeature.services,
    patching: createPatchingService({ db, cache, analytics, queue: commandFeature.queue, log, perOrganizationConcurrency: PATCH_ORG_CONCURRENCY, resolveScopes }),
    remote: remoteFeature.service,
    remoteRpc: remoteFeature.rpc,
  };
  // The scheduler's and remediation's script service; requests build theirs from `services` (scriptsOf).
  const scripts = createScriptService({
    db, log, commands: services.commands, jobs: services.jobs, audit: auditByAddress,
  });
  commandFeature.startWorker({ 'deploy-patch': services.patching.handle });

  // Room for a few batches: sinks a little behind the others still find their rows in memory.
  const reader = createIngestLogReader(db, { capacityRows: 3 * env.DRAIN_BATCH_ROWS, rangeReadsAsJson: db.engine === 'pglite', metrics });
  // Embedded, every append is this process's and wakes the drainers: their poll is only a safety net.
  const pollMs = db.engine === 'pglite' ? Math.max(env.DRAIN_POLL_MS, EMBEDDED_DRAIN_POLL_MS) : env.DRAIN_POLL_MS;
  const drainers = sinks.map((sink) => jetStream?.drainer(sink)
    ?? createDrainer({ db, reader, sink, instanceId, batchRows: env.DRAIN_BATCH_ROWS, pollMs, metrics, log }));
  services.ingest.onAppended((rows) => {
    reader.remember(rows);
    drainers.forEach((drainer) => drainer.wake());
  });
  drainers.forEach((drainer) => drainer.start());

  // Every periodic job of every feature, on one scheduler; exclusive ones hold a lease in job_leases
  // (in this process when the database is embedded: no other instance can open it).
  const scheduler = createScheduler({ log, instanceId, leases: db.engine === 'pglite' ? createProcessLeases() : createJobLeases(db) });
  // One outbox sender for alert channels and event-webhook subscriptions.
  const delivery = createDelivery({ env, db, log, instanceId, sources: [channelSource, subscriptionSource] });
  const alerting = alertJobs({
    env, db, analytics, log, events,
    latestAgentVersion: () => releaseCatalog(releasesDir(env)).list()[0]?.version,
    remediate: (alert, label) => scripts.remediate(alert, label),
    check: (request) => scripts.check(request),
  });
  scheduler.register(...deviceJobs({ db, cache, log, events }));
  scheduler.register(...ingestJobs({
    env, db, metrics, sinkNames: sinks.map((sink) => sink.name),
    // The JetStream log is purged below every consumer's ack floor.
    ...(jetStream ? { trimLog: () => jetStream.trim(), lagRows: () => jetStream.lagRows() } : {}),
  }));
  scheduler.register(...commandFeature.jobs);
  scheduler.register(...analyticsJobs({ env, db, analytics, timeseries, metrics, log }));
  scheduler.register(...logJobs({ env, documents, log }));
  scheduler.register(...storeJobs({ env, db, cache, timeseries, documents, metrics, log }));
  scheduler.register(...alerting);
  scheduler.register(...scriptJobs(scripts, log));
  scheduler.register(...delivery.jobs);
  scheduler.register(...patchingJobs(services.patching));
  scheduler.start();

  const tls = env.TLS_CERT_FILE && env.TLS_KEY_FILE
    ? { cert: await readFile(env.TLS_CERT_FILE), key: await readFile(env.TLS_KEY_FILE) }
    : undefined;
  const stopDeviceControl = await listenForDeviceControl(cache, services.agents, log);
  const router = createAppRouter(services);
  const gate = createCallerGate(services);
  const http = createHttpServer({
    env, log, tls,
    metrics: options.clusterWorker ? { registry: clusterRegistry(metrics.registry) } : metrics,
    router,
    createContext: (opts) => createContext(gate, opts),
    readiness: () => readiness(storeHealthChecks(services)),
    // The REST surface before the console's routes, which serve index.html for any unknown path.
    onBinaryFrame: remoteFeature.frames,
    upgrades: [remoteFeature.streams.upgrade],
    routes: [
      remoteFeature.downloadRoute, remoteFeature.uploadRoute, (req, res) => handleDownloads(services, req, res), createRestHandler({ router, gate, log }), oidcRoutes(services),
      ...(options.routes ? [options.routes] : []),
    ],
  });
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      remoteFeature.streams.close();
      await http.close();
      await services.ingest.flush();
      await scheduler.stop();
      await delivery.stop();
      await commandFeature.stop();
      await Promise.all(drainers.map((drainer) => drainer.stop()));
      await Promise.all(sinks.map((sink) => sink.close()));
      await jetStream?.close();
      await apiCalls.close();
      await shipper.close();
      await timeseries.close();
      await documents.close();
      await analytics.close();
      await stopDeviceControl().catch(() => undefined);
      await cache.close();
      await slowQueryAlerts.flush();
      await db.close();
      log.info('NinjaIT server stopped');
    })();
    return closing;
  };
  // A port that cannot be bound stops the start-up with everything opened so far closed:
  // otherwise the stores and jobs would keep a server running that nobody can reach.
  await listenOn(http.server, options.port ?? { port: env.PORT, host: env.HOST }).catch(async (error: unknown) => {
    await close().catch((closeError: unknown) => log.warn({ err: closeError }, 'closing after a failed start-up'));
    throw error;
  });
  const { port } = http.server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST}:${port}`;
  log.info({ url, instanceId, relational: db.engine, cache: cache.engine, sessions: services.sessions.storeKind, sinks: sinks.map((sink) => sink.name), ingestLog: jetStream ? 'nats' : db.engine }, 'NinjaIT server listening');

  return {
    url, port, services, router, gate, drainers, notifications: delivery.dispatcher,
    async drained() {
      await services.ingest.flush();
      await Promise.all(drainers.map((drainer) => drainer.caughtUp()));
    },
    close,
  };
}

