/** The alerts feature: rules, the ingest consumer, scheduled conditions, notifications, and their routers. */
export { createAlertSink } from './alert-sink.ts';
export { alertJobs, type AlertJobDeps } from './jobs.ts';
export { runRemediationActions, type Remediator } from './actions.ts';
export { runScriptChecks, type CheckRequest, type ScriptChecker } from './script-checks.ts';
export type { RemediationDue } from './alerts-repository.ts';
export { channelSource } from './notify/channel-source.ts';
export { createAlertsRouter, createAlertRulesRouter, createChannelsRouter, createMaintenanceRouter } from './alerts.router.ts';
export { createAlertsAdminRouter } from './admin.router.ts';
export { parseDuration, parseWhen, describeCondition } from './conditions.ts';
export { createSlowQueryAlerts, listSystemAlerts, resolveQuietSystemAlerts, type SlowQueryAlerts, type SystemAlert } from './system-alerts.ts';
