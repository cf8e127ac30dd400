import { scriptsAdminRouter, scriptsRouter } from '../features/scripts/index.ts';
import { router } from '../platform/trpc/trpc.ts';
import { authRouter } from '../features/auth/auth.router.ts';
import { usersRouter } from '../features/auth/users.router.ts';
import { tokensRouter } from '../features/enrollment/tokens.router.ts';
import { devicesRouter } from '../features/devices/devices.router.ts';
import { agentRouter } from '../features/ingest/agent.router.ts';
import { adminRouter } from '../features/organizations/admin.router.ts';
import { analyticsRouter } from '../features/analytics/analytics.router.ts';
import { ticketsRouter } from '../features/tickets/tickets.router.ts';
import { liveRouter } from '../features/devices/live.router.ts';
import { commandsRouter } from '../features/commands/commands.router.ts';
import { shellRouter } from '../features/shells/shell.router.ts';
import { jobsRouter } from '../features/bulk-jobs/jobs.router.ts';
import { updatesRouter } from '../features/updates/updates.router.ts';
import { logsRouter } from '../features/logs/logs.router.ts';
import { auditRouter } from '../features/audit/audit.router.ts';
import { metricsRouter } from '../features/devices/metrics.router.ts';
import { quarantineRouter } from '../features/ingest/quarantine.router.ts';
import { organizationsRouter } from '../features/organizations/organizations.router.ts';
import { systemRouter } from './system.router.ts';
import { alertRulesRouter, alertsAdminRouter, alertsRouter, channelsRouter, maintenanceRouter } from '../features/alerts/index.ts';
import { apiKeysRouter } from '../features/api-keys/index.ts';
import { webhooksAdminRouter, webhooksRouter } from '../features/webhooks/index.ts';
import { twoFactorRouter } from '../features/auth/two-factor.router.ts';
import { ssoRouter } from '../features/auth/oidc.router.ts';
import { patchesRouter, softwareRouter } from '../features/patching/index.ts';
import { remoteRouter } from '../features/remote/index.ts';
import { providersAdminRouter, providersRouter, switchProcedures } from '../features/providers/index.ts';
import { contractsAdminRouter, contractsRouter } from '../features/billing/index.ts';
import { assetsAdminRouter, assetsRouter } from '../features/assets/index.ts';
import { settingsRouter } from '../features/settings/index.ts';
import { fleetAdminRouter, fleetRouter } from '../features/fleet/index.ts';

export const appRouter = router({
  // The organization switcher sits beside login and logout under `auth`.
  auth: router({ ...authRouter._def.record, ...switchProcedures }),
  users: usersRouter,
  tokens: tokensRouter,
  devices: devicesRouter,
  agent: agentRouter,
  // The local admin's alerting commands sit beside the others under `admin`.
  admin: router({
    ...adminRouter._def.record, alerting: alertsAdminRouter, webhooks: webhooksAdminRouter, contracts: contractsAdminRouter, assets: assetsAdminRouter,
    fleet: fleetAdminRouter, scripts: scriptsAdminRouter, providers: providersAdminRouter,
  }),
  analytics: analyticsRouter,
  tickets: ticketsRouter,
  live: liveRouter,
  commands: commandsRouter,
  shell: shellRouter,
  remote: remoteRouter,
  jobs: jobsRouter,
  scripts: scriptsRouter,
  updates: updatesRouter,
  logs: logsRouter,
  audit: auditRouter,
  metrics: metricsRouter,
  quarantine: quarantineRouter,
  organizations: organizationsRouter,
  system: systemRouter,
  alerts: alertsRouter,
  alertRules: alertRulesRouter,
  channels: channelsRouter,
  maintenance: maintenanceRouter,
  apiKeys: apiKeysRouter,
  webhooks: webhooksRouter,
  twoFactor: twoFactorRouter,
  sso: ssoRouter,
  software: softwareRouter,
  patches: patchesRouter,
  providers: providersRouter,
  contracts: contractsRouter,
  assets: assetsRouter,
  settings: settingsRouter,
  fleet: fleetRouter,
});

/** The API's type: the agent, the CLI and the console import it type-only. */
export type AppRouter = typeof appRouter;
