import type { Env } from '../config/index.ts';
import type { Logger } from '../obs/logger.ts';
import type { RelationalStore } from '../stores/relational/index.ts';
import type { CacheStore } from '../stores/cache/index.ts';
import { createCommandService, type CommandService } from './service.ts';
import { createShellService, type ShellService } from './shell/shell-service.ts';
import { createBulkJobService, createBullmqQueue, createMemoryQueue, type BulkJobService } from './bulk/index.ts';
import type { Auditor } from './audit.ts';

export { createCommandService, type CommandService } from './service.ts';
export type { Requester, RunInput } from './requests.ts';
export type { Auditor } from './audit.ts';
export type { Command, CommandStatus, OutputEvent, AgentMessage, CommandSpec } from './types.ts';
export { measureEchoRoundTrip } from './bench.ts';

/**
 * Builds remote commands, shells and bulk jobs for one instance and starts their background
 * work (the sweeper, the `patch-deployment` worker); `stop` ends both.
 */
export function createCommandFeature(deps: { env: Env; db: RelationalStore; cache: CacheStore; log: Logger; audit: Auditor }) {
  const { env, db, cache, log, audit } = deps;
  const commands: CommandService = createCommandService({ db, cache, log, audit });
  const shells: ShellService = createShellService({ db, cache, publisher: commands.publisher, audit });
  const queue = env.REDIS_URL
    ? createBullmqQueue({ redisUrl: env.REDIS_URL, prefix: env.QUEUE_PREFIX, log })
    : createMemoryQueue();
  const jobs: BulkJobService = createBulkJobService({ db, commands, queue, log, audit, workerConcurrency: env.BULK_WORKER_CONCURRENCY });
  commands.start();
  jobs.start();
  return {
    services: { commands, shells, jobs },
    async stop() {
      await jobs.close();
      await commands.stop();
    },
  };
}
