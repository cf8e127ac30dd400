import { router } from './trpc.ts';
import { authRouter } from './routers/auth.router.ts';
import { usersRouter } from './routers/users.router.ts';
import { tokensRouter } from './routers/tokens.router.ts';
import { devicesRouter } from './routers/devices.router.ts';
import { agentRouter } from './routers/agent.router.ts';
import { adminRouter } from './routers/admin.router.ts';
import { analyticsRouter } from './routers/analytics.router.ts';
import { ticketsRouter } from './routers/tickets.router.ts';
import { liveRouter } from './routers/live.router.ts';
import { commandsRouter } from './routers/commands.router.ts';
import { shellRouter } from './routers/shell.router.ts';
import { jobsRouter } from './routers/jobs.router.ts';
import { updatesRouter } from './routers/updates.router.ts';
import { logsRouter } from './routers/logs.router.ts';
import { auditRouter } from './routers/audit.router.ts';
import { metricsRouter } from './routers/metrics.router.ts';

export const appRouter = router({
  auth: authRouter,
  users: usersRouter,
  tokens: tokensRouter,
  devices: devicesRouter,
  agent: agentRouter,
  admin: adminRouter,
  analytics: analyticsRouter,
  tickets: ticketsRouter,
  live: liveRouter,
  commands: commandsRouter,
  shell: shellRouter,
  jobs: jobsRouter,
  updates: updatesRouter,
  logs: logsRouter,
  audit: auditRouter,
  metrics: metricsRouter,
});

/** The API's type: the agent, the CLI and the console import it type-only. */
export type AppRouter = typeof appRouter;
