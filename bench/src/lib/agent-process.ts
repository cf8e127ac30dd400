import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
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
  const child = spawnAgent(['enroll', '--server', serverUrl, '--token', token, '--data-dir', dataDir], logFile, {}, [], command);
  // The log's folder is usually a benchmark's scratch folder, removed when it fails: why goes with the error.
  let said = '';
  child.stderr!.on('data', (chunk: Buffer) => { said = `${said}${chunk.toString('utf8')}`.slice(-600); });
  const code = await new Promise<number | null>((resolve) => child.once('close', (exitCode) => resolve(exitCode)));
  if (code !== 0) throw new Error(`ninjait-agent enroll exited with ${code}: ${said.trim().replace(/\s+/g, ' ')}`);
}

export async function stopProcess(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await done;
  clearTimeout(timer);
}

/** Whether any process of the group led by `pgid` is still alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a child started with `detached: true` and everything it started (`npm start` runs
 * sh → node → the server and its agent): SIGTERM to the whole process group, SIGKILL after
 * `timeoutMs`, and returns only once no process of the group is left. Stopping only `npm`
 * left the server writing into its data directory (rm then failed with ENOTEMPTY) and holding
 * the pipes this process reads, which kept the bench from exiting.
 */
export async function stopProcessGroup(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const pgid = child.pid;
  if (pgid === undefined) return;
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-pgid, name);
    } catch {
      // the group is already gone
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  let killed = false;
  while (groupAlive(pgid) || (child.exitCode === null && child.signalCode === null)) {
    if (!killed && Date.now() > deadline) {
      signal('SIGKILL');
      killed = true;
    }
    // Zombies of the group that no init reaps would look alive forever: give up on them.
    if (killed && Date.now() > deadline + 5_000) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.stdout?.destroy();
  child.stderr?.destroy();
}

/** Removes a temporary folder even while a just-stopped process's last files settle. */
export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}
