import { spawn } from 'node:child_process';
import type { PatchResult, PatchSpec } from '@ninjait/shared';
import { macInstallCommand, parseMacInstall } from './install-macos.ts';
import { parseWindowsInstall, windowsInstallCommand, WU_RESULT_MARKER } from './install-windows.ts';

export const INSTALL_TIMEOUT_MS = 30 * 60_000;
/** Output kept for the result message: the tail says why it failed. */
const MESSAGE_TAIL_CHARS = 1_500;
/** Output lines kept for the parsers that read per-update outcomes (Windows, macOS). */
const KEPT_LINES = 5_000;

export interface InstallOptions {
  /** Each output line, as it comes (streamed to the server as progress). */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Extra apt options (tests point apt at their own lists). */
  aptOptions?: readonly string[];
  /** Re-reads the installed version of a package after the run; null when not installed. */
  installedVersion: (patch: PatchSpec) => Promise<string | null>;
  /** Whether the machine waits for a restart now (asked once the package manager is done). */
  rebootRequired: () => boolean | Promise<boolean>;
}

/** Package names the package managers accept; anything else is refused before a process starts. */
const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9+._:@-]{0,255}$/;

/**
 * The argument array that installs `patches` with their package manager; the names go in as
 * arguments (after `--` where supported), never through a shell.
 */
export function installCommand(patches: readonly PatchSpec[], aptOptions: readonly string[] = []): { file: string; args: string[]; env: NodeJS.ProcessEnv } | null {
  const source = patches[0]?.source;
  const names = patches.map((patch) => patch.name);
  if (!source || patches.some((patch) => patch.source !== source)) return null;
  // Windows and macOS updates are named by ids and labels their own builders check.
  const byName = source !== 'windows-update' && source !== 'softwareupdate';
  if (byName && names.some((name) => !PACKAGE_NAME.test(name))) return null;
  switch (source) {
    case 'apt':
      return {
        file: 'apt-get',
        args: ['install', '--only-upgrade', '-y', '-q', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold', ...aptOptions, '--', ...names],
        env: { DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'a' },
      };
    case 'dnf':
    case 'yum':
      return { file: source, args: ['-y', 'upgrade', '--', ...names], env: {} };
    case 'zypper':
      return { file: 'zypper', args: ['--non-interactive', 'update', '--', ...names], env: {} };
    case 'windows-update':
      return windowsInstallCommand(patches);
    case 'softwareupdate':
      return macInstallCommand(patches);
    default:
      return null;
  }
}

/**
 * Installs one deployment's patches and says, per patch, what happened: installed (the package
 * reached the version), failed (with the package manager's exit code and the end of its output),
 * or reboot pending. A run that fails part-way still reports the packages that did get upgraded.
 */
export async function installPatches(patches: readonly PatchSpec[], options: InstallOptions): Promise<PatchResult[]> {
  const command = installCommand(patches, options.aptOptions);
  if (!command) {
    return patches.map((patch) => ({ key: patch.key, status: 'failed' as const, code: null,
      message: `This agent cannot install ${patch.source} updates here (or the package name, update id or label is not valid)` }));
  }
  const source = patches[0]!.source;
  if (source === 'windows-update') {
    // The script's closing JSON line is for the parser, not the technician's progress view.
    const run = await spawnCollecting(command, { ...options, onLine: (line) => {
      if (!line.startsWith(WU_RESULT_MARKER.trim())) options.onLine?.(line);
    } });
    return parseWindowsInstall(run.lines, patches, run);
  }
  if (source === 'softwareupdate') {
    const run = await spawnCollecting(command, options);
    return parseMacInstall(run.lines, patches, run);
  }
  const run = await spawnCollecting(command, options);
  const reboot = await options.rebootRequired();
  const results: PatchResult[] = [];
  for (const patch of patches) {
    const version = await options.installedVersion(patch);
    // apt names the exact version it installs; other managers' version strings differ in form, so their exit code decides.
    const reached = version !== null && (patch.source === 'apt' ? patch.version === '' || version === patch.version : run.code === 0);
    if (reached && run.code === 0) results.push({ key: patch.key, status: reboot ? 'reboot_pending' : 'installed', code: 0, message: `Now at ${version}` });
    else if (reached) results.push({ key: patch.key, status: 'installed', code: run.code, message: `Now at ${version}; the run ended with code ${run.code}` });
    else results.push({ key: patch.key, status: 'failed', code: run.code ?? -1, message: run.tail || run.error || 'The package manager failed' });
  }
  return results;
}

function spawnCollecting(command: { file: string; args: string[]; env: NodeJS.ProcessEnv }, options: InstallOptions) {
  return new Promise<{ code: number | null; tail: string; error: string | null; lines: string[] }>((resolve) => {
    let tail = '';
    let partial = '';
    const kept: string[] = [];
    const keep = (line: string) => {
      kept.push(line);
      if (kept.length > KEPT_LINES) kept.shift();
      options.onLine?.(line);
    };
    const child = spawn(command.file, command.args, {
      env: { ...process.env, LC_ALL: 'C', ...command.env }, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true,
      signal: options.signal, timeout: options.timeoutMs ?? INSTALL_TIMEOUT_MS, killSignal: 'SIGTERM',
    });
    const take = (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split(/\r?\n/);
      partial = parts.pop() ?? '';
      for (const line of parts) if (line.trim()) keep(line);
      tail = (tail + chunk.toString('utf8')).slice(-MESSAGE_TAIL_CHARS);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (error) => resolve({ code: null, tail, error: error.message, lines: kept }));
    child.on('close', (code) => {
      if (partial.trim()) keep(partial);
      resolve({ code, tail: tail.trim(), error: null, lines: kept });
    });
  });
}
