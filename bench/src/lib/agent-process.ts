import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { buildBundle } from '../../../installers/build-bundle.ts';
import { REPO_ROOT } from './server-process.ts';

/** How to start `ninjait-agent`: a Node binary and the arguments before the agent's own. */
export interface AgentCommand {
  node: string;
  args: readonly string[];
}

/** The agent as developers run it: TypeScript through tsx. */
export const TSX_AGENT: AgentCommand = { node: process.execPath, args: ['--import', 'tsx', join(REPO_ROOT, 'agent/src/cli/main.ts')] };

/** A bundle folder as installers ship it (see installers/README.md). */
export interface AgentBundle {
  dir: string;
  /** The Node runtime shipped in the bundle. */
  node: string;
  script: string;
}

/** Builds what users install (installers/build-bundle.ts) into `dir`. */
export async function buildAgentBundle(dir: string): Promise<AgentBundle> {
  await buildBundle({ out: dir });
  return { dir, node: join(dir, 'bin', 'node'), script: join(dir, 'lib', 'agent.mjs') };
}

/** The bundled agent run by the runtime shipped with it. */
export function bundledAgent(bundle: AgentBundle): AgentCommand {
  return { node: bundle.node, args: [bundle.script] };
}

/**
 * Runs the real agent CLI (`ninjait-agent …`) as its own process, logs to `logFile`.
 * `nodeArgs` go to Node before the script (`--cpu-prof`, the launcher's flags).
 */
export function spawnAgent(
  args: string[], logFile: string, env: Record<string, string> = {}, nodeArgs: readonly string[] = [], command: AgentCommand = TSX_AGENT,
): ChildProcess {
  const child = spawn(command.node, [...nodeArgs, ...command.args, ...args], {
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
export async function enrollAgent(serverUrl: string, token: string, dataDir: string, logFile: string, command: AgentCommand = TSX_AGENT): Promise<void> {
  const code = await exited(spawnAgent(['enroll', '--server', serverUrl, '--token', token, '--data-dir', dataDir], logFile, {}, [], command));
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
