import { dirname } from 'node:path';
import type { Inventory, MetricSample } from '@ninjait/shared';
import { createCollector } from './collect/collector.ts';
import type { AgentConfig } from './config/file.ts';
import { createHeartbeat } from './link/heartbeat.ts';
import { createSender } from './link/sender.ts';
import { connectLink } from './link/trpc-link.ts';
import type { AgentLink } from './link/types.ts';
import type { Logger } from './log.ts';
import { openOutbox } from './outbox/outbox.ts';
import type { Outbox } from './outbox/types.ts';
import { createHeapTrimmer } from './util/heap-trim.ts';
import { RecentErrors } from './util/recent-errors.ts';
import { startCommandRunner } from './exec/index.ts';
import { DEFAULT_BUFFER_MAX_MB } from './defaults.ts';

const SUMMARY_INTERVAL_MS = 5 * 60_000;
/** Budget for each shutdown step, so the whole stop stays within ~2 s. */
const STOP_STEP_MS = 600;

export interface RunAgentOptions {
  config: AgentConfig;
  outboxFile: string;
  log: Logger;
  /** Overrides the interval the server gave at enrollment. */
  intervalMs?: number;
  bufferMaxMb?: number;
  summaryIntervalMs?: number;
  /** Injections for tests. */
  link?: AgentLink;
  sample?: () => Promise<MetricSample>;
  inventory?: () => Promise<Inventory>;
}

/** A running agent. */
export interface RunningAgent {
  readonly outbox: Outbox;
  readonly link: AgentLink;
  /** Stops collecting, closes the socket and the database; resolves within ~2 s. */
  stop(): Promise<void>;
}

/**
 * Starts the agent: outbox first (everything collected lands there before any send), then
 * the collector (first sample now), the link, the heartbeat and the sender. Keeps the process
 * alive until `stop()`.
 */
export function runAgent(opts: RunAgentOptions): RunningAgent {
  const { config, log } = opts;
  const intervalMs = opts.intervalMs ?? config.intervalMs;
  const outbox = openOutbox({ file: opts.outboxFile, bufferMaxMb: opts.bufferMaxMb ?? DEFAULT_BUFFER_MAX_MB });
  const errors = new RecentErrors();
  const abort = new AbortController();
  const link = opts.link ?? connectLink({ server: config.server, credentials: config, log });
  const commands = startCommandRunner({ client: link.trpc, dataDir: dirname(opts.outboxFile), log });
  const sender = createSender({ outbox, api: link, log, errors });
  const heartbeat = createHeartbeat({ api: link, outbox, errors, intervalMs, log });
  const heap = createHeapTrimmer();
  const collector = createCollector({
    outbox, intervalMs, log, errors,
    onAppend: () => {
      sender.wake();
      heap.afterWork();
    },
    ...(opts.sample && { sample: opts.sample }),
    ...(opts.inventory && { inventory: opts.inventory }),
  });
  const offConnected = link.onConnected(() => {
    heartbeat.connected();
    sender.connected();
  });
  if (link.connected) sender.connected();

  log.info({ server: config.server, deviceId: config.deviceId, intervalMs, ...outbox.stats() }, 'agent starting');
  collector.start();
  const loops = Promise.all([
    sender.run(abort.signal).catch((err: unknown) => log.fatal({ err }, 'sender loop crashed')),
    heartbeat.run(abort.signal).catch((err: unknown) => log.fatal({ err }, 'heartbeat loop crashed')),
  ]);
  const summary = setInterval(() => {
    log.info({ connected: link.connected, ...collector.stats(), ...sender.stats(), ...outbox.stats(), errorsTotal: errors.total, heapTrims: heap.trims }, 'summary');
  }, opts.summaryIntervalMs ?? SUMMARY_INTERVAL_MS);
  // Every other timer is unref()'d; this one is what keeps `run` alive.
  const keepAlive = setInterval(() => undefined, 1 << 30);

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    clearInterval(summary);
    clearInterval(keepAlive);
    abort.abort();
    offConnected();
    await collector.stop(STOP_STEP_MS);
    await withDeadline(commands.stop(), STOP_STEP_MS);
    await withDeadline(link.close(), STOP_STEP_MS).catch((err: unknown) => log.warn({ err }, 'closing the connection failed'));
    await withDeadline(loops, STOP_STEP_MS);
    outbox.close();
    log.info({ ...sender.stats() }, 'agent stopped');
  };
  return {
    outbox,
    link,
    stop: () => (stopping ??= stop()),
  };
}

/** Waits for `p`, but no longer than `ms`; stopping must not hang on a stuck peer. */
async function withDeadline(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => { t = setTimeout(r, ms).unref(); })]);
  clearTimeout(t);
}
