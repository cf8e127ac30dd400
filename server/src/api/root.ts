import { router } from './trpc.ts';
import { authRouter } from './routers/auth.router.ts';
import { usersRouter } from './routers/users.router.ts';
import { tokensRouter } from './routers/tokens.router.ts';
import { devicesRouter } from './routers/devices.router.ts';
import { agentRouter } from './routers/agent.router.ts';
import { adminRouter } from './routers/admin.router.ts';

export const appRouter = router({
  auth: authRouter,
  users: usersRouter,
  tokens: tokensRouter,
  devices: devicesRouter,
  agent: agentRouter,
  admin: adminRouter,
});

/** The API's type: the agent, the CLI and the console import it type-only. */
export type AppRouter = typeof appRouter;
