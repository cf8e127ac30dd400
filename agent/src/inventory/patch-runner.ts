import type { PatchResult, PatchSpec, PatchWorkItem } from '@ninjait/shared';
import type { Logger } from '../log.ts';
import { installPatches } from './install.ts';
import { decideReboot, rebootCommand, withRebootNote } from './reboot.ts';
import { linuxRebootPending } from './reboot-pending.ts';
import { runTool, type RunTool } from './run-tool.ts';

/** How often the agent asks whether a deployment waits for it. */
export const PATCH_POLL_MS = 30_000;
const PROGRESS_LINES_PER_CALL = 50;
const PROGRESS_LINE_CHARS = 500;

export interface PatchApi {
  /** `reboot` is missing from an older server's answer: then the agent never restarts. */
  work(): Promise<PatchWorkItem[]>;
  started(deploymentId: string): Promise<{ run: boolean }>;
  progress(deploymentId: string, lines: string[]): Promise<unknown>;
  result(deploymentId: string, results: PatchResult[]): Promise<unknown>;
}

export interface PatchRunnerOptions {
  api: PatchApi;
  log: Logger;
  /** Called after a run so the server sees the new versions at once. */
  afterRun: () => Promise<void>;
  pollMs?: number;
  /** The first check waits this long. */
  startDelayMs?: number;
  aptOptions?: readonly string[];
  run?: RunTool;
  /** May this agent restart the machine when the reboot policy asks (NINJAIT_ALLOW_REBOOT)? Default false. */
  allowReboot?: boolean;
  /** Which OS's restart command to use (tests); default this one. */
  platform?: NodeJS.Platform;
}

const RPM_SOURCES: ReadonlySet<string> = new Set(['dnf', 'yum', 'zypper']);

/** The installed version of a package, or null, read the way its ecosystem stores it. */
export async function installedVersion(patch: PatchSpec, run: RunTool = runTool): Promise<string | null> {
  if (patch.source === 'apt') {
    const out = await run('dpkg-query', ['-W', '-f', '${db:Status-Abbrev}\t${Version}', '--', patch.name]);
    const [status = '', version = ''] = out.stdout.split('\t');
    return out.code === 0 && /^[ih]i/.test(status) ? version : null;
  }
  if (patch.source === 'dnf' || patch.source === 'yum' || patch.source === 'zypper') {
    const out = await run('rpm', ['-q', '--qf', '%{VERSION}-%{RELEASE}', '--', patch.name]);
    return out.code === 0 ? out.stdout.trim() : null;
  }
  return null;
}

/**
 * Polls for deployments meant for this device, claims each (the server lets one run start), installs
 * its patches, streams the package manager's output and reports a result per patch.
 */
export function startPatchRunner(options: PatchRunnerOptions) {
  const { api, log } = options;
  const stopping = new AbortController();
  let busy: Promise<void> | null = null;

  /**
   * Applies the deployment's reboot policy: schedules the restart with its notice (the result is
   * reported before the notice runs out) or says why not; the note ends each result's message.
   */
  async function afterInstall(deployment: PatchWorkItem, results: PatchResult[], say: (line: string) => void): Promise<PatchResult[]> {
    const platform = options.platform ?? process.platform;
    const decision = decideReboot(deployment.reboot, results, platform === 'linux' && await rebootPending(deployment), options.allowReboot ?? false);
    if (!decision.reboot) {
      if (decision.reason) log.info({ deploymentId: deployment.id, policy: deployment.reboot?.policy ?? null }, `no restart: ${decision.reason}`);
      return withRebootNote(results, decision.reason);
    }
    const command = rebootCommand(platform, decision.noticeMin);
    const out = await (options.run ?? runTool)(command.file, command.args, { timeoutMs: 30_000 });
    if (out.code !== 0) {
      const why = (out.error ?? out.stderr.trim()) || `exit code ${out.code}`;
      log.warn({ deploymentId: deployment.id, command: command.file, code: out.code, why }, 'the restart could not be scheduled');
      say(`Restart could not be scheduled: ${why}`);
      return withRebootNote(results, `a restart is pending; scheduling it failed (${why})`);
    }
    log.info({ deploymentId: deployment.id, policy: deployment.reboot?.policy, noticeMin: decision.noticeMin }, 'restart scheduled after patching');
    say(`Restart scheduled in ${decision.noticeMin} min (reboot policy: ${deployment.reboot?.policy})`);
    return withRebootNote(results, decision.reason);
  }

  /** The machine's restart state after a run; the RPM tools are asked only when the deployment used an RPM package manager. */
  const rebootPending = (deployment: PatchWorkItem) =>
    linuxRebootPending({ run: options.run ?? runTool, rpm: deployment.patches.some((patch) => RPM_SOURCES.has(patch.source)) });

  async function runOne(deployment: PatchWorkItem) {
    const claim = await api.started(deployment.id);
    if (!claim.run) return;
    log.info({ deploymentId: deployment.id, patches: deployment.patches.map((patch) => patch.name) }, 'installing patches');
    const pending: string[] = [];
    let flushing: Promise<unknown> = Promise.resolve();
    const flush = () => {
      if (pending.length === 0) return flushing;
      const lines = pending.splice(0, PROGRESS_LINES_PER_CALL);
      // Progress is best effort: a lost line costs nothing, the result is what counts.
      flushing = flushing.then(() => api.progress(deployment.id, lines)).catch(() => undefined);
      return flushing;
    };
    const timer = setInterval(() => void flush(), 1_000).unref();
    const say = (line: string) => {
      pending.push(line.slice(0, PROGRESS_LINE_CHARS));
      if (pending.length >= PROGRESS_LINES_PER_CALL) void flush();
    };
    const installed = await installPatches(deployment.patches, {
      aptOptions: options.aptOptions, signal: stopping.signal, onLine: say,
      installedVersion: (patch) => installedVersion(patch, options.run),
      rebootRequired: () => rebootPending(deployment),
    });
    const results = await afterInstall(deployment, installed, say);
    clearInterval(timer);
    while (pending.length > 0) await flush();
    await flushing;
    await api.result(deployment.id, results);
    log.info({ deploymentId: deployment.id, results: results.map((result) => `${result.key}:${result.status}`) }, 'patch deployment finished');
    await options.afterRun();
  }

  async function poll() {
    try {
      for (const deployment of await api.work()) {
        if (stopping.signal.aborted) return;
        await runOne(deployment);
      }
    } catch (err) {
      if (!stopping.signal.aborted) log.warn({ err }, 'patch deployment check failed; retrying');
    }
  }

  const tick = () => {
    busy ??= poll().finally(() => {
      busy = null;
    });
    return busy;
  };
  const timer = setInterval(() => void tick(), options.pollMs ?? PATCH_POLL_MS);
  timer.unref();
  const first = setTimeout(() => void tick(), options.startDelayMs ?? 0);
  first.unref();
  return {
    /** Checks for work now. */
    check: tick,
    async stop() {
      clearInterval(timer);
      clearTimeout(first);
      stopping.abort();
      await busy;
    },
  };
}
