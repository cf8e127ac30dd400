import cluster from 'node:cluster';
import { parseEnv } from '../../platform/config/index.ts';
import { makeDataDirPrivate } from '../../platform/data-dir.ts';
import { createLogger } from '../../platform/obs/logger.ts';
import { startServer, type RunningServer } from '../../app/create-app.ts';
import { parse, type Command } from '../args.ts';
import { createStaticRoutes } from '../../platform/http/static.ts';
import { claimPort, type ClaimedPort } from '../../platform/http/listen.ts';
import type { Env } from '../../platform/config/index.ts';
import { startServerWorkers, stopWhenPrimaryAsks } from '../../app/server-workers.ts';

const usage = `
Usage: ninjait serve

Runs the NinjaIT server. Configuration comes from environment variables (see README):
PORT, HOST, DATA_DIR, DATABASE_URL, REDIS_URL, LOG_LEVEL, AGENT_INTERVAL_MS, RATE_LIMIT_MAX, ...
Without DATABASE_URL and REDIS_URL it runs on embedded stores in DATA_DIR.

WORKERS=N (with DATABASE_URL and REDIS_URL) runs N server processes behind PORT, one per core:
connections are handed to each in turn, and a worker that dies is started again.`;

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

/**
 * What `serve` and `start` share: bind PORT first, so a busy port stops the start before DATA_DIR
 * is created or a store opened; then make DATA_DIR private and start the server on that socket.
 */
export async function startOnClaimedPort(env: Env): Promise<RunningServer> {
  const port: ClaimedPort = await claimPort(env.PORT, env.HOST);
  try {
    makeDataDirPrivate(env.DATA_DIR, createLogger(env.LOG_LEVEL));
    return await startServer(env, { routes: createStaticRoutes(), port });
  } catch (error) {
    await port.release();
    throw error;
  }
}

export const serveCommand: Command = {
  usage,
  async run(argv) {
    parse(argv, {}, usage);
    const env = parseEnv();
    if (cluster.isWorker) {
      // One of WORKERS: the primary prepared DATA_DIR and shares PORT (see server-workers.ts).
      const server: RunningServer = await startServer(env, { routes: createStaticRoutes(), clusterWorker: true });
      stopWhenPrimaryAsks(() => server.close());
    } else if (env.WORKERS > 1) {
      const workers = await startServerWorkers(env, createLogger(env.LOG_LEVEL));
      stopOnSignals(() => workers.stop());
    } else {
      const server: RunningServer = await startOnClaimedPort(env);
      stopOnSignals(() => server.close());
    }
    await new Promise(() => undefined);
  },
};
