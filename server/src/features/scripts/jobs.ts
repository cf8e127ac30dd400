import type { Job } from '../../platform/scheduler/scheduler.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { ScriptService } from './service.ts';

const SCHEDULES_MS = 15_000;

/** Due schedules, on one instance at a time (a lease); each schedule's advance is also a compare-and-set. */
export function scriptJobs(scripts: ScriptService, log: Logger, everyMs = SCHEDULES_MS): Job[] {
  return [{
    name: 'scripts-schedules', everyMs, exclusive: true,
    async run() {
      const started = await scripts.runDue();
      if (started > 0) log.info({ started }, 'scheduled script runs started');
    },
  }];
}
