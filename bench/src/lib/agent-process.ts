import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './server-process.ts';

const AGENT_CLI = join(REPO_ROOT, 'agent/src/cli/main.ts');

/**
 * Runs the real agent CLI (`ninjait-agent …`) as its own process, logs to `logFile`.
 * `nodeArgs` go to Node before the script (`--cpu-prof`).
 */
export function spawnAgent(args: string[], logFile: string, env: Record<string, string> = {}, nodeArgs: readonly string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', AGENT_CLI, ...args], {
    cwd: REPO_ROOT, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  return child;
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** `ninjait-agent enroll` into `dataDir`; throws with the exit code when it fails. */
export async function enrollAgent(serverUrl: string, token: string, dataDir: string, logFile: string): Promise<void> {
  const code = await exited(spawnAgent(['enroll', '--server', serverUrl, '--token', token, '--data-dir', dataDir], logFile));
  if (code !== 0) throw new Error(`ninjait-agent enroll exited with ${code}; see ${logFile}`);
}

export async function stopProcess(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await done;
  clearTimeout(timer);
}
