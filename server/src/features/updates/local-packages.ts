import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';
import { createInterface } from 'node:readline';
import type { Logger } from '../../platform/obs/logger.ts';
import { localPackagesDir } from './publish-help.ts';
import { releaseCatalog, releasesDir } from './releases.ts';
import { checkoutRoot, inCheckout } from '../../platform/checkout.ts';

const REPO_ROOT = checkoutRoot();
const PUBLISHER = inCheckout('installers', 'publish-local.ts');
/** How long the publisher has to stop its build steps and remove its build folder before it is killed. */
const STOP_GRACE_MS = 5_000;
/** Progress lines are small; anything longer is not one of them. */
const MAX_EVENT_CHARS = 16_384;
const STDERR_TAIL_CHARS = 2_000;
const LOWEST_PRIORITY = 19;

/** The background build started by `ninjait start`. */
export interface LocalPackages {
  /** Resolves with the publisher's exit code (or signal) once it is done. */
  finished: Promise<number | string>;
  /** Stops the build (its steps with it) and waits for it. */
  stop(): Promise<void>;
}

type PublishEvent = { event: string; kind?: string; kinds?: string[]; file?: string; reason?: string; seconds?: number };

function logEvent(log: Logger, event: PublishEvent): void {
  const { event: what, ...fields } = event;
  switch (what) {
    case 'building': return log.info(fields, `building agent packages in the background: ${event.kinds?.join(', ')}`);
    case 'published': return log.info(fields, `agent package published: ${event.file}`);
    case 'reused': return log.info(fields, `agent package unchanged since it was published: ${event.file}`);
    case 'skipped': return log.info(fields, `no ${event.kind} agent package here: ${event.reason}`);
    case 'failed': return log.warn(fields, `agent package ${event.kind} could not be built: ${event.reason}`);
    default: return undefined;
  }
}

/**
 * The quick start's packages: runs installers/publish-local.ts beside the server, at the lowest
 * CPU priority, so the .deb, .rpm and bundle this machine can build are signed and published into
 * the releases folder (and reused on the next start while the agent sources are unchanged). The
 * install lines are offered as each package appears. Each step of its progress is one log line.
 * Null when RELEASES_DIR is set (that folder is an admin's to fill) or there is nothing to build from.
 */
export function startLocalPackages(env: { DATA_DIR: string; RELEASES_DIR?: string | undefined }, log: Logger): LocalPackages | null {
  if (env.RELEASES_DIR) {
    log.info({ releasesDir: env.RELEASES_DIR }, 'RELEASES_DIR is set: the quick start publishes no agent packages into it');
    return null;
  }
  if (!existsSync(PUBLISHER)) {
    log.info({ publisher: PUBLISHER }, 'this copy has no installers/ folder: the quick start publishes no agent packages');
    return null;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', PUBLISHER, '--releases-dir', releasesDir(env), '--work-dir', localPackagesDir(env)], {
    cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  // At once, before it even compiles itself: the local agent's first sample comes first.
  try {
    if (child.pid) setPriority(child.pid, LOWEST_PRIORITY);
  } catch {
    // It lowers its own priority as it starts.
  }
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS);
  });
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
    if (line.length > MAX_EVENT_CHARS) return;
    try {
      const event = JSON.parse(line) as PublishEvent;
      // The catalog rescans every few seconds; a package published here is offered at once.
      if (event.event === 'published') releaseCatalog(releasesDir(env)).refresh();
      logEvent(log, event);
    } catch {
      // Not a progress line (a build tool's chatter): nothing to report.
    }
  });
  let stopping = false;
  const finished = new Promise<number | string>((resolve) => {
    child.once('error', (err) => {
      log.warn({ err }, 'the agent package build could not start');
      resolve(-1);
    });
    child.once('exit', (code, signal) => {
      if (code !== 0 && !stopping) log.warn({ code, signal, stderr: stderr.trim() }, 'the agent package build ended early');
      resolve(code ?? signal ?? -1);
    });
  });
  return {
    finished,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await finished;
      clearTimeout(timer);
    },
  };
}
