import { parseEnv } from '../../config/index.ts';
import { startServer, type RunningServer } from '../../app/create-app.ts';
import { parse, type Command } from '../args.ts';
import { createStaticRoutes } from '../../http/static.ts';

const usage = `
Usage: ninjait serve

Runs the NinjaIT server. Configuration comes from environment variables (see README):
PORT, HOST, DATA_DIR, DATABASE_URL, REDIS_URL, LOG_LEVEL, AGENT_INTERVAL_MS, RATE_LIMIT_MAX, ...
Without DATABASE_URL and REDIS_URL it runs on embedded stores in DATA_DIR.`;

/** Stops cleanly on the first SIGINT/SIGTERM, hard on the second. */
export function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`\n${signal}: stopping (press Ctrl-C again to force)\n`);
    stop().then(() => process.exit(0), (error: unknown) => {
      process.stderr.write(`shutdown failed: ${(error as Error).message}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export const serveCommand: Command = {
  summary: 'run the server',
  usage,
  async run(argv) {
    parse(argv, {}, usage);
    const server: RunningServer = await startServer(parseEnv(), { routes: createStaticRoutes() });
    stopOnSignals(() => server.close());
    await new Promise(() => undefined);
  },
};
