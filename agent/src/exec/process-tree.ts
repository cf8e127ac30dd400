import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandSpec } from './types.ts';

export interface Invocation {
  file: string;
  args: string[];
  /** Removes the script file, if one was written. */
  cleanup(): Promise<void>;
}

const EXTENSIONS: Record<string, string> = { python3: '.py', perl: '.pl', node: '.js', powershell: '.ps1', cmd: '.cmd' };

/**
 * How to run a command on this platform. One-liners for sh and bash go through `-c`; PowerShell,
 * cmd and interpreters get a script file (Windows command lines are short, and `.cmd` needs a file).
 */
export async function invocationFor(spec: CommandSpec, scriptDir: string): Promise<Invocation> {
  const noCleanup = async () => undefined;
  if (!spec.interpreter && (spec.shell === 'sh' || spec.shell === 'bash')) {
    return { file: spec.shell === 'sh' ? '/bin/sh' : 'bash', args: ['-c', spec.script], cleanup: noCleanup };
  }
  await mkdir(scriptDir, { recursive: true, mode: 0o700 });
  const kind = spec.interpreter ?? spec.shell;
  const path = join(scriptDir, `${spec.id}${EXTENSIONS[kind] ?? ''}`);
  await writeFile(path, spec.script, { mode: 0o700 });
  const cleanup = () => rm(path, { force: true });
  if (spec.interpreter) return { file: spec.interpreter, args: [path], cleanup };
  if (spec.shell === 'powershell') {
    return { file: 'powershell.exe', args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', path], cleanup };
  }
  return { file: 'cmd.exe', args: ['/d', '/c', path], cleanup };
}

/**
 * Starts a process in its own process group on POSIX (`detached`), so the whole tree can be
 * killed at once; on Windows `taskkill /T` walks the tree instead.
 */
export function spawnTree(file: string, args: string[], options: SpawnOptions & { platform?: NodeJS.Platform } = {}): ChildProcess {
  const windows = (options.platform ?? process.platform) === 'win32';
  return spawn(file, args, {
    cwd: tmpdir(),
    windowsHide: true,
    ...options,
    detached: !windows,
  });
}

/** Kills a process and everything it started (same process group / Windows job tree). */
export function killTree(child: ChildProcess, platform: NodeJS.Platform = process.platform): void {
  const pid = child.pid;
  if (pid === undefined) return;
  if (platform === 'win32') {
    const killer = spawn('taskkill', ['/T', '/F', '/PID', String(pid)], { windowsHide: true, stdio: 'ignore' });
    killer.on('error', () => child.kill('SIGKILL'));
    return;
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is gone already (ESRCH), or never formed: kill the leader at least.
    child.kill('SIGKILL');
  }
}
