import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readConfig } from '../config/file.ts';
import { readServerPins } from '../config/server-pins.ts';
import { assertTransportAllowed, fixedTrust, serverTransport } from '../link/server-transport.ts';
import { resolveLaunchTarget, type LaunchTarget } from './launch-target.ts';
import type { UpdateLayout } from './layout.ts';
import { AGENT_RUN_NODE_FLAGS } from './node-flags.ts';
import { loadPublicKey } from './release.ts';
import { fetchConfirmation } from './server-api.ts';
import { confirmSwap, readMarker, rollback, rollbackIfStale } from './swap.ts';
import { checkForUpdate } from './updater.ts';

export interface SupervisorOptions {
  /** Arguments for the agent (`run`, `--data-dir X`, ...). */
  args: string[];
  baseDir: string;
  layout: UpdateLayout;
  configFile: string;
  /** The server keys the agent pinned: update checks and confirmations trust only them. */
  serverPinsFile: string;
  /** The agent may use plain http:// beyond loopback (--insecure): so may the update checks. */
  insecure: boolean;
  publicKeyFile: string;
  platform: NodeJS.Platform;
  arch: string;
  updates: boolean;
  checkIntervalMs: number;
  firstCheckMs: number;
  confirmLimitMs: number;
  confirmPollMs: number;
  retryFailedAfterMs: number;
  log(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
}

const STOP_GRACE_MS = 10_000;
const CRASH_RETRY_MS = 2_000;

/**
 * Runs the agent as a child and keeps it updated: between starts it rolls back a new version
 * that never connected; while a new version is on trial it asks the server whether the device
 * reported that version, and rolls back at the deadline; otherwise it checks for updates and
 * restarts the child into a verified new version. Resolves with the exit code to exit with.
 */
export async function supervise(opts: SupervisorOptions, signal: AbortSignal): Promise<number> {
  for (;;) {
    const { rolledBack, pending } = rollbackIfStale(opts.layout, Date.now(), opts.confirmLimitMs);
    if (rolledBack) opts.log('warn', 'new version did not connect in time: rolled back', { ...rolledBack });
    const target = resolveLaunchTarget(opts.layout, opts.baseDir, opts.platform);
    // A package upgrade past the version on trial makes the trial moot.
    if (pending && pending.to !== target.version) confirmSwap(opts.layout);
    const onTrial = pending?.to === target.version;
    opts.log('info', 'starting agent', { version: target.version, source: target.source, onTrial });

    const child = startChild(target, opts.args);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let restart: 'update' | 'rollback' | null = null;
    const timers = new Set<NodeJS.Timeout>();
    const later = (ms: number, fn: () => Promise<void>) => {
      const t = setTimeout(() => { timers.delete(t); void fn().catch((err: unknown) => opts.log('error', 'launcher task failed', { err: String(err) })); }, Math.max(0, ms));
      timers.add(t);
    };
    const restartInto = (why: 'update' | 'rollback') => { restart = why; stopChild(child); };

    const scheduleChecks = (firstMs: number) => later(firstMs, async () => {
      const outcome = await checkOnce(opts, target.version);
      if (outcome === 'installed') return restartInto('update');
      scheduleChecks(jitter(opts.checkIntervalMs));
    });
    if (onTrial) {
      const deadlineMs = pending.startedAtMs + opts.confirmLimitMs - Date.now();
      later(deadlineMs, async () => {
        if (!readMarker(opts.layout)) return;
        opts.log('warn', 'new version did not connect in time: rolling back', { version: target.version });
        rollback(opts.layout, Date.now());
        restartInto('rollback');
      });
      const poll = () => later(opts.confirmPollMs, async () => {
        if (!readMarker(opts.layout)) return;
        if (await confirmed(opts, target.version)) {
          confirmSwap(opts.layout);
          opts.log('info', 'new version connected: update confirmed', { version: target.version });
          if (opts.updates) scheduleChecks(jitter(opts.checkIntervalMs));
        } else poll();
      });
      poll();
    } else if (opts.updates) scheduleChecks(opts.firstCheckMs);

    const onAbort = () => stopChild(child);
    signal.addEventListener('abort', onAbort, { once: true });
    const code = await exited;
    signal.removeEventListener('abort', onAbort);
    timers.forEach(clearTimeout);
    if (signal.aborted) return code ?? 0;
    if (restart) continue;
    if (onTrial && readMarker(opts.layout)) {
      // The new version died before proving itself: try again until the deadline rolls it back.
      opts.log('warn', 'new version exited during its trial', { version: target.version, code });
      await new Promise((resolve) => setTimeout(resolve, CRASH_RETRY_MS));
      continue;
    }
    return code ?? 1;
  }
}

function startChild(target: LaunchTarget, args: string[]): ChildProcess {
  return spawn(target.node, [...AGENT_RUN_NODE_FLAGS, target.script, ...args], { stdio: 'inherit', env: { ...process.env, NINJAIT_AGENT_HOME: target.dir } });
}

function stopChild(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  force.unref();
  child.once('exit', () => clearTimeout(force));
}

/** Spreads a fleet's checks so a release does not make every agent download at once. */
const jitter = (ms: number) => Math.round(ms * (0.9 + Math.random() * 0.2));

async function checkOnce(opts: SupervisorOptions, currentVersion: string): Promise<string> {
  const config = readConfig(opts.configFile);
  if (!config) return 'not-enrolled';
  let publicKey;
  try {
    publicKey = loadPublicKey(readFileSync(opts.publicKeyFile));
  } catch (err) {
    opts.log('warn', 'no usable update key: auto-update is off', { file: opts.publicKeyFile, err: (err as Error).message });
    return 'no-key';
  }
  let transport;
  try {
    transport = transportFor(opts, config.server);
  } catch (err) {
    opts.log('warn', 'update check skipped', { err: (err as Error).message });
    return 'insecure';
  }
  const outcome = await checkForUpdate({
    server: config.server, layout: opts.layout, currentVersion, platform: opts.platform, arch: opts.arch,
    publicKey, nowMs: Date.now(), retryFailedAfterMs: opts.retryFailedAfterMs, fetch: transport.fetch,
  });
  const level = outcome.status === 'refused' || outcome.status === 'error' ? 'warn' : 'info';
  opts.log(level, `update check: ${outcome.status}`, { ...outcome });
  return outcome.status;
}

async function confirmed(opts: SupervisorOptions, version: string): Promise<boolean> {
  const config = readConfig(opts.configFile);
  if (!config) return false;
  try {
    const { fetch } = transportFor(opts, config.server);
    return await fetchConfirmation(config.server, { deviceId: config.deviceId, deviceSecret: config.deviceSecret, version }, fetch);
  } catch (err) {
    opts.log('warn', 'could not ask the server to confirm the update', { err: (err as Error).message });
    return false;
  }
}

/**
 * The agent's own trust for its server: the pinned keys (the device secret goes in the confirm
 * call), and plain http:// beyond loopback only when the agent is allowed it. Throws otherwise.
 */
function transportFor(opts: Pick<SupervisorOptions, 'serverPinsFile' | 'insecure'>, server: string) {
  assertTransportAllowed(server, opts.insecure);
  return serverTransport(server, fixedTrust(readServerPins(opts.serverPinsFile)));
}
