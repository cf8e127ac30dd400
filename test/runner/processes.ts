import { spawn, type ChildProcess, type SpawnOptions, type StdioOptions } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/** How the runner starts, watches and stops programs: argument arrays only, never a shell string. */

/** Prints one of the runner's own lines (the tests' output goes straight through). */
export const say = (message: string) => process.stdout.write(`${message}\n`);
export const step = (message: string) => say(`\n==> ${message}`);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The children running now (one per concurrent phase), so a signal to the runner can be passed on to them. */
const running = new Set<ChildProcess>();
export const runningChildren = (): readonly ChildProcess[] => [...running];

/**
 * Runs a program to its end in a process group of its own (so the runner can stop it and
 * everything it started); resolves with its exit code (128+n for signal n). Its output goes to
 * the runner's terminal, or to `logFile` when it runs beside another phase (the runner prints the
 * file when it ends, so two phases' lines never interleave). Whatever is left in its group when it
 * exits (a test's server that outlived an interrupted test) is killed and named.
 */
export function runForeground(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile?: string } = {}): Promise<number> {
  return new Promise((resolve) => {
    const log = options.logFile ? openSync(options.logFile, 'a') : null;
    const stdio: StdioOptions = log === null ? 'inherit' : ['ignore', log, log];
    const child = spawn(command, args, { stdio, detached: true, env: options.env ?? process.env, cwd: options.cwd });
    if (log !== null) closeSync(log);
    running.add(child);
    child.once('error', (error) => {
      say(`could not run ${command}: ${error.message}`);
      running.delete(child);
      resolve(127);
    });
    child.once('exit', (code, signal) => {
      running.delete(child);
      void killLeftovers((pid, group) => pid !== child.pid && group === child.pid, `left in the process group of ${command}`)
        .then(() => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
    });
  });
}

/**
 * SIGKILLs every process `matches` picks (by pid, process group and command line), except this
 * one, and says how many there were: they are leaks of the step that just ended.
 */
export async function killLeftovers(matches: (pid: number, group: number, args: string) => boolean, where: string): Promise<number> {
  const listing = await capture('ps', ['-eo', 'pid=,pgid=,args=']);
  const leftovers = listing.stdout.split('\n').flatMap((line) => {
    const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (!match) return [];
    const [pid, group, args] = [Number(match[1]), Number(match[2]), match[3]!];
    // A zombie has exited already; its parent (or init) reaps it.
    return pid !== process.pid && !args.endsWith('<defunct>') && matches(pid, group, args) ? [{ pid, args }] : [];
  });
  for (const { pid, args } of leftovers) {
    say(`killing a leftover process ${where}: ${pid} ${args.slice(0, 160)}`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return leftovers.length;
}

/** Runs a program quietly and returns what it printed; never throws (code 127: could not start). */
export function capture(command: string, args: readonly string[], options: SpawnOptions & { timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...options });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = options.timeoutMs ? setTimeout(() => killGroup(child, 'SIGKILL'), options.timeoutMs) : null;
    child.once('error', (error) => {
      if (timer) clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${error.message}` });
    });
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal ? signalNumber(signal) : 0), stdout, stderr });
    });
  });
}

/** Sends a signal to the child's whole process group (it was started detached), falling back to the child. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGTERM, up to `graceMs` to exit, then SIGKILL; a process that is already gone is fine. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return;
    await sleep(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // exited meanwhile
  }
}

/** Whether something accepts TCP connections at host:port within `timeoutMs`. */
export function tcpOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Whether `port` on 127.0.0.1 can be bound now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** A port the kernel just handed out on 127.0.0.1 (free at the time of asking). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Polls `check` every `everyMs` until it is true or `timeoutMs` passes. */
export async function until(check: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return false;
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
const signalNumber = (signal: NodeJS.Signals) => SIGNAL_NUMBERS[signal] ?? 1;
