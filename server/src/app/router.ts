import { createScriptsAdminRouter, createScriptsRouter } from '../features/scripts/index.ts';
import { router } from '../platform/trpc/trpc.ts';
import { createAuthRouter } from '../features/auth/auth.router.ts';
import { createUsersRouter } from '../features/auth/users.router.ts';
import { createTokensRouter } from '../features/enrollment/tokens.router.ts';
import { createDevicesRouter } from '../features/devices/devices.router.ts';
import { createIngestAgentProcedures } from '../features/ingest/agent-procedures.ts';
import { createEnrollmentAgentProcedures } from '../features/enrollment/agent-procedures.ts';
import { createDeviceAgentProcedures } from '../features/devices/agent-procedures.ts';
import { createCommandAgentProcedures } from '../features/commands/agent-procedures.ts';
import { createShellAgentProcedures } from '../features/shells/agent-procedures.ts';
import { createAdminRouter } from '../features/organizations/admin.router.ts';
import { createPatchingAdminRouter } from '../features/patching/admin.router.ts';
import { createAnalyticsRouter } from '../features/analytics/analytics.router.ts';
import { createTicketsRouter } from '../features/tickets/tickets.router.ts';
import { createLiveRouter } from '../features/devices/live.router.ts';
import { createCommandsRouter } from '../features/commands/commands.router.ts';
import { createShellRouter } from '../features/shells/shell.router.ts';
import { createJobsRouter } from '../features/bulk-jobs/jobs.router.ts';
import { createUpdatesRouter } from '../features/updates/updates.router.ts';
import { createLogsRouter } from '../features/logs/logs.router.ts';
import { createAuditRouter } from '../features/audit/audit.router.ts';
import { createMetricsRouter } from '../features/devices/metrics.router.ts';
import { createQuarantineRouter } from '../features/ingest/quarantine.router.ts';
import { createOrganizationsRouter } from '../features/organizations/organizations.router.ts';
import { createSystemRouter } from './system.router.ts';
import { createAlertRulesRouter, createAlertsAdminRouter, createAlertsRouter, createChannelsRouter, createMaintenanceRouter } from '../features/alerts/index.ts';
import { createApiKeysRouter } from '../features/api-keys/index.ts';
import { createWebhooksAdminRouter, createWebhooksRouter } from '../features/webhooks/index.ts';
import { createTwoFactorRouter } from '../features/auth/two-factor.router.ts';
import { createSsoRouter } from '../features/auth/oidc.router.ts';
import { createPatchesRouter, createPatchingAgentProcedures, createSoftwareRouter } from '../features/patching/index.ts';
import { createRemoteAgentProcedures, createRemoteRouter } from '../features/remote/index.ts';
import { createProvidersAdminRouter, createProvidersRouter, createSwitchProcedures } from '../features/providers/index.ts';
import { createContractsAdminRouter, createContractsRouter } from '../features/billing/index.ts';
import { createAssetsAdminRouter, createAssetsRouter } from '../features/assets/index.ts';
import { createSettingsRouter } from '../features/settings/index.ts';
import { createFleetAdminRouter, createFleetRouter } from '../features/fleet/index.ts';
import type { Services } from './services.ts';

/**
 * The API: every feature's procedures, each router built from what its feature declares it needs
 * (the services satisfy every one of those types; no feature sees the whole).
 */
export function createAppRouter(services: Services) {
  return router({
    // The organization switcher sits beside login and logout under `auth`.
    auth: router({ ...createAuthRouter(services)._def.record, ...createSwitchProcedures(services) }),
    users: createUsersRouter(services),
    tokens: createTokensRouter(services),
    devices: createDevicesRouter(services),
    // The agent's procedures from each feature: enrollment, its secret (devices), heartbeat and push (ingest), commands, shells, patching, remote.
    agent: router({
      ...createEnrollmentAgentProcedures(services),
      ...createDeviceAgentProcedures(services),
      ...createIngestAgentProcedures(services),
      ...createCommandAgentProcedures(services),
      ...createShellAgentProcedures(services),
      ...createPatchingAgentProcedures(services),
      ...createRemoteAgentProcedures(services),
    }),
    // The local admin's alerting commands sit beside the others under `admin`.
    admin: router({
      ...createAdminRouter(services)._def.record,
      patching: createPatchingAdminRouter(services),
      alerting: createAlertsAdminRouter(services),
      webhooks: createWebhooksAdminRouter(services),
      contracts: createContractsAdminRouter(services),
      assets: createAssetsAdminRouter(services),
      fleet: createFleetAdminRouter(services),
      scripts: createScriptsAdminRouter(services),
      providers: createProvidersAdminRouter(services),
    }),
    analytics: createAnalyticsRouter(services),
    tickets: createTicketsRouter(services),
    live: createLiveRouter(services),
    commands: createCommandsRouter(services),
    shell: createShellRouter(services),
    remote: createRemoteRouter(services),
    jobs: createJobsRouter(services),
    scripts: createScriptsRouter(services),
    updates: createUpdatesRouter(services),
    logs: createLogsRouter(services),
    audit: createAuditRouter(services),
    metrics: createMetricsRouter(services),
    quarantine: createQuarantineRouter(services),
    organizations: createOrganizationsRouter(services),
    system: createSystemRouter(services),
    alerts: createAlertsRouter(services),
    alertRules: createAlertRulesRouter(services),
    channels: createChannelsRouter(services),
    maintenance: createMaintenanceRouter(services),
    apiKeys: createApiKeysRouter(services),
    webhooks: createWebhooksRouter(services),
    twoFactor: createTwoFactorRouter(services),
    sso: createSsoRouter(services),
    software: createSoftwareRouter(services),
    patches: createPatchesRouter(services),
    providers: createProvidersRouter(services),
    contracts: createContractsRouter(services),
    assets: createAssetsRouter(services),
    settings: createSettingsRouter(services),
    fleet: createFleetRouter(services),
  });
}

/** The API's type: the agent, the CLI and the console import it type-only. */
export type AppRouter = ReturnType<typeof createAppRouter>;

/**
 * The same procedures with no services behind them: their paths, types and input schemas, for
 * what reads the API's shape without serving it (the REST routes' schemas, the OpenAPI document,
 * the security suite's catalogue). The factories read their dependencies only when a procedure
 * runs, so building this touches nothing; calling one of its procedures throws.
 */
export const appRouterShape: AppRouter = createAppRouter(new Proxy({} as Services, {
  get(_target, property) {
    throw new Error(`appRouterShape has no services (read of ${String(property)}): call the router the server built`);
  },
}));
