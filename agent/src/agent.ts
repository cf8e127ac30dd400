import { dirname } from 'node:path';
import { waitAtMost, type Inventory, type MetricSample } from '@ninjait/shared';
import { createCollector } from './collect/collector.ts';
import type { AgentConfig } from './config/file.ts';
import { addAnnouncedPins, showPin } from './config/server-pins.ts';
import { createHeartbeat } from './link/heartbeat.ts';
import { CredentialRefusal } from './link/refusal.ts';
import { createSender } from './link/sender.ts';
import { serverTransport } from './link/server-transport.ts';
import { connectLink } from './link/trpc-link.ts';
import type { AgentLink } from './link/types.ts';
import type { Logger } from './log.ts';
import { openOutbox } from './outbox/outbox.ts';
import type { Outbox } from './outbox/types.ts';
import { createHeapTrimmer } from './util/heap-trim.ts';
import { ensurePrivateDatabase } from './util/private-files.ts';
import { RecentErrors } from './util/recent-errors.ts';
import { startCommandRunner } from './exec/index.ts';
import { streamOpener } from './remote/download-streams.ts';
import { DEFAULT_BUFFER_MAX_MB } from './defaults.ts';
import { startSoftwareInventory, type SoftwareInventoryOptions } from './inventory/start.ts';

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
  /**
   * The server keys pinned at enrollment (https), and where keys the server announces are saved.
   * None (http://, or an agent enrolled before pinning): the certificate is checked against the CAs.
   */
  serverPins?: { pins: readonly string[]; save(pins: string[]): void } | null;
  /** Where `status` learns that the server refuses the credentials. */
  linkStateFile?: string;
  /** Backoff while the credentials are refused (2 s doubling to 5 min by default). */
  refusalBackoff?: { baseMs: number; maxMs: number };
  /** Terminals and file access (see NINJAIT_PTY, NINJAIT_FILE_ROOTS). */
  remote?: { usePty?: boolean; fileRoots?: readonly string[] };
  /** Injections for tests. */
  link?: AgentLink;
  sample?: () => Promise<MetricSample>;
  inventory?: () => Promise<Inventory>;
  /** Software inventory and patching: tuning, or false to leave them off (tests of other parts). */
  software?: SoftwareInventoryOptions | false;
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
  ensurePrivateDatabase(opts.outboxFile);
  const outbox = openOutbox({ file: opts.outboxFile, bufferMaxMb: opts.bufferMaxMb ?? DEFAULT_BUFFER_MAX_MB });
  const errors = new RecentErrors();
  const abort = new AbortController();
  const pinned = trackServerPins(config.server, opts.serverPins ?? null, log);
  const refusal = new CredentialRefusal({ log, stateFile: opts.linkStateFile, ...opts.refusalBackoff });
  const link = opts.link ?? connectLink({ server: config.server, credentials: config, log, refusal, transport: pinned.transport });
  const commands = startCommandRunner({
    client: link.trpc, sendFrame: (frame) => link.sendFrame(frame), onFrame: (listener) => link.onFrame(listener), openStream: streamOpener(pinned.transport),
    dataDir: dirname(opts.outboxFile), log, refusal, ...opts.remote,
  });
  const software = opts.software === false ? null
    : startSoftwareInventory({ client: link.trpc, dataDir: dirname(opts.outboxFile), log, ...opts.software });
  const sender = createSender({ outbox, api: link, log, errors, refusal, stopGraceMs: STOP_STEP_MS - 100 });
  const heartbeat = createHeartbeat({
    api: link, outbox, errors, intervalMs, log, onServerPins: pinned.announced,
    // The device's settings (agentIntervalSeconds) win over the local interval while they ask for one.
    onServerInterval: (asked) => {
      const next = asked ?? intervalMs;
      if (next === collector.intervalMs) return;
      log.info({ intervalMs: next, previousMs: collector.intervalMs, from: asked === undefined ? 'local' : 'settings' }, 'collection interval changed');
      collector.setIntervalMs(next);
      heartbeat.setIntervalMs(next);
    },
  });
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
    // A refused device's socket keeps reopening: the heartbeat finds out whether it is still
    // refused, and the sender is woken when it is not (below), not to fail again on every reopen.
    if (!refusal.active) sender.connected();
  });
  const offAccepted = refusal.onAccepted(() => sender.connected());
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
    offAccepted();
    // A push in flight keeps the socket until its ack or its grace ends (the sender's
    // stopGraceMs), while the other parts stop beside it.
    const loopsDone = waitAtMost(loops, STOP_STEP_MS);
    await collector.stop(STOP_STEP_MS);
    await waitAtMost(commands.stop(), STOP_STEP_MS);
    await waitAtMost(software?.stop() ?? Promise.resolve(), STOP_STEP_MS);
    await loopsDone;
    await waitAtMost(link.close(), STOP_STEP_MS).catch((err: unknown) => log.warn({ err }, 'closing the connection failed'));
    outbox.close();
    log.info({ ...sender.stats() }, 'agent stopped');
  };
  return {
    outbox,
    link,
    stop: () => (stopping ??= stop()),
  };
}

/**
 * The live set of pinned server keys: read by every TLS handshake, grown by the keys the server
 * announces over a connection that already passed the pin (so a planned key change does not lock
 * the agent out), and saved so the next start knows them too.
 */
function trackServerPins(server: string, saved: RunAgentOptions['serverPins'], log: Logger) {
  let pins = [...(saved?.pins ?? [])];
  let keyInUse: string | null = null;
  if (pins.length === 0 && new URL(server).protocol === 'https:') {
    log.warn({ server }, 'the server\'s key is not pinned (enrolled by an older agent): any certificate the system trusts is accepted; enroll again to pin it');
  }
  const transport = serverTransport(server, { pins: () => pins, onVerified: (pin) => void (keyInUse = pin) });
  const announced = (keys: string[]) => {
    // Nothing pinned (http://, or not pinned yet): there is no pin set to extend.
    if (pins.length === 0 || keys.length === 0) return;
    const next = addAnnouncedPins(pins, keyInUse, keys);
    if (next.length === pins.length && next.every((pin) => pins.includes(pin))) return;
    pins = next;
    log.info({ pins: pins.map(showPin) }, 'the server announced the keys it will present next; they are pinned now too');
    try {
      saved?.save(pins);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not save the announced server keys; they hold until the agent restarts');
    }
  };
  return { transport, announced };
}

