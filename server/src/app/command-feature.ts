import type { Env } from '../platform/config/index.ts';
import type { Logger } from '../platform/obs/logger.ts';
import type { RelationalStore } from '../stores/relational/index.ts';
import type { CacheStore } from '../stores/cache/index.ts';
import type { MessageBus } from '../stores/nats/bus.ts';
import { createCommandService, type Auditor, type CommandService } from '../features/commands/index.ts';
import { createShellService, type ShellService } from '../features/shells/index.ts';
import { createBulkJobService, createMemoryQueue, routeWork, type BulkJobService, type TargetHandler } from '../features/bulk-jobs/index.ts';
import type { EventPublisher } from '../features/events/index.ts';

/**
 * Builds remote commands, shells and bulk jobs for one instance and starts the `patch-deployment`
 * worker (`stop` ends it); `jobs` are the periodic ones (command sweeper, bulk-job re-drive), for the scheduler.
 */
export async function createCommandFeature(deps: { env: Env; db: RelationalStore; cache: CacheStore; log: Logger; audit: Auditor; events: EventPublisher; bus?: MessageBus }) {
  const { env, db, log, audit } = deps;
  // Commands, their output and shells travel between instances on the bus when there is one (NATS), else on the cache's pub/sub.
  const cache = deps.bus ? routedThrough(deps.cache, deps.bus) : deps.cache;
  const commands: CommandService = createCommandService({ db, cache, log, audit, events: deps.events });
  const shells: ShellService = createShellService({ db, cache, publisher: commands.publisher, audit, local: commands.local });
  // BullMQ is loaded only for Redis: its modules are ~11 MB of an embedded server's memory otherwise.
  const queue = env.REDIS_URL
    ? (await import('../stores/queue/bullmq/bullmq-queue.ts')).createBullmqQueue({ redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX, log })
    : createMemoryQueue();
  const jobs: BulkJobService = createBulkJobService({ db, commands, log, audit, waveSize: env.BULK_WAVE_SIZE });
  return {
    services: { commands, shells, jobs },
    jobs: [...commands.jobs(), ...jobs.jobs()],
    /** The `patch-deployment` queue, shared with patch deployments. */
    queue,
    /** Starts this instance's worker once every kind of work has its handler (bulk jobs fan out without it; old queued targets drive their job). */
    startWorker(handlers: { 'deploy-patch': TargetHandler }) {
      queue.start(routeWork({ 'bulk-target': jobs.handle, ...handlers }), env.BULK_WORKER_CONCURRENCY);
    },
    async stop() {
      await jobs.close();
      await queue.close();
    },
  };
}

/** The cache with its publish and subscribe taken by `bus`; every other call still reaches the cache. */
function routedThrough(cache: CacheStore, bus: MessageBus): CacheStore {
  return new Proxy(cache, {
    get(target, property) {
      if (property === 'publish') return bus.publish;
      if (property === 'subscribe') return bus.subscribe;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
