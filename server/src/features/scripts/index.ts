/** The script library (issue #16): saved, versioned scripts with typed parameters, runs, schedules and remediation. */
export { createScriptService, type ScriptService } from './service.ts';
export { createScriptsRouter, SCRIPT_WRITE_ROLE } from './scripts.router.ts';
export { createScriptsAdminRouter } from './admin.router.ts';
export { scriptJobs } from './jobs.ts';
export { nextRun, assertTimeZone } from './cron.ts';
export { PARAM_ENV_PREFIX } from './schemas.ts';
