/**
 * A minimal agent process for end-to-end tests: the real command executor (agent/src/exec)
 * on a real tRPC WebSocket to one server instance. Configured by environment variables.
 */
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { WebSocket } from 'ws';
import type { AppRouter } from '@ninjait/server/router';
import { startCommandRunner } from '@ninjait/agent/exec';
import { createLogger } from '@ninjait/agent';

const { NINJAIT_SERVER, DEVICE_ID, DEVICE_SECRET, AGENT_DATA_DIR } = process.env;
if (!NINJAIT_SERVER || !DEVICE_ID || !DEVICE_SECRET || !AGENT_DATA_DIR) throw new Error('NINJAIT_SERVER, DEVICE_ID, DEVICE_SECRET and AGENT_DATA_DIR are required');

const socket = createWSClient({
  url: `${NINJAIT_SERVER.replace(/^http/, 'ws')}/trpc`,
  WebSocket: WebSocket as never,
  connectionParams: { deviceId: DEVICE_ID, deviceSecret: DEVICE_SECRET },
  retryDelayMs: () => 200,
  onOpen: () => process.stdout.write('agent connected\n'),
});
const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: socket })] });
const runner = startCommandRunner({ client, dataDir: AGENT_DATA_DIR, log: createLogger('warn', 2) });

const stop = () => {
  void runner.stop().then(() => socket.close()).then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
