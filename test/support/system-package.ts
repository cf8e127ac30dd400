import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';

/**
 * What a test needs to install the real `ninjait-agent` package on this machine (dpkg, the
 * `ninjait` user, /etc/ninjait, /var/lib/ninjait) without harming a real install or a concurrent
 * test, and to run the agent the way its systemd unit would where there is no systemd.
 */

/** A root shell's PATH, without what the test runner added (no tsx, no node_modules/.bin). */
export const ROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Held by the tests that install packages with dpkg (install-lines, debian-patching, .ci/installers-test.sh): one at a time per machine. */
const LOCK_DIR = '/run/lock/ninjait-agent-package-test';

const succeeds = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;
const has = (command: string) => succeeds('sh', ['-c', `command -v ${command}`]);

/** Why the package cannot be installed here (so the test is skipped, saying so), or null. */
export function packageInstallBlocker(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (dpkg -i and a system user need it)';
  for (const tool of ['dpkg', 'dpkg-deb', 'curl', 'setpriv', 'useradd']) if (!has(tool)) return `${tool} is missing`;
  if (succeeds('dpkg', ['-s', 'ninjait-agent'])) return 'ninjait-agent is installed on this machine: the test would replace it';
  for (const path of ['/etc/ninjait', '/var/lib/ninjait', '/opt/ninjait']) if (existsSync(path)) return `${path} exists: the test would clobber it`;
  if (succeeds('getent', ['passwd', 'ninjait'])) return 'a ninjait user exists: the test would delete it';
  return null;
}

/** Whether rpmbuild is here: without it there is no .rpm to check. */
export const hasRpmbuild = () => has('rpmbuild');

/** This machine's first non-loopback IPv4 address: how a second machine would reach it. */
export function lanAddress(): string | null {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((address) => address.family === 'IPv4' && !address.internal);
    if (found) return found.address;
  }
  return null;
}

/**
 * Takes the machine-wide lock; false when another live process holds it. A lock whose holder is
 * gone (a killed run) is taken over.
 */
export function takePackageLock(): boolean {
  try {
    mkdirSync(LOCK_DIR);
  } catch {
    let holder: number;
    try {
      holder = Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8').trim());
    } catch {
      return false; // Taken this instant: its holder is writing its pid.
    }
    if (holder > 0 && holder !== process.pid && isAlive(holder)) return false;
  }
  writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
  return true;
}

/**
 * Waits for the machine-wide lock while another live process holds it (the installers test runs
 * beside the main suite): false if it is still held after `timeoutMs`.
 */
export async function waitForPackageLock(timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (takePackageLock()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

export function releasePackageLock(): void {
  const holder = existsSync(join(LOCK_DIR, 'pid')) ? readFileSync(join(LOCK_DIR, 'pid'), 'utf8').trim() : '';
  if (holder === String(process.pid)) rmSync(LOCK_DIR, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A folder holding a `sudo` that runs its command, for a root shell on a machine without sudo:
 * the line is still run exactly as printed. Null when the real sudo exists.
 */
export function sudoShim(dir: string): string | null {
  if (has('sudo')) return null;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'sudo'), '#!/bin/sh\n# root already: what sudo would run\nexec "$@"\n');
  chmodSync(join(dir, 'sudo'), 0o755);
  return dir;
}

/** The variables systemd would read from the unit's EnvironmentFile (KEY=value lines). */
export function serviceEnvironment(file = '/etc/default/ninjait-agent'): Record<string, string> {
  if (!existsSync(file)) return {};
  const entries = readFileSync(file, 'utf8').split('\n')
    .map((line) => /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => [match[1]!, match[2]!.replace(/^(["'])(.*)\1$/, '$2')]);
  return Object.fromEntries(entries);
}

/** A process group started by a test (a shell line, the service's command), killed as one. */
export interface Group {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

/** Starts `command` in a process group of its own, with exactly `env`; output kept for reports. */
export function startGroup(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = '/'): Group {
  const child = spawn(command, args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((done) => child.once('exit', (code, signal) => done(code ?? signal ?? -1)));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is gone.
    }
  };
  return {
    child, exited, output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) {
        signalGroup('SIGKILL');
        return;
      }
      signalGroup('SIGTERM');
      const timer = setTimeout(() => signalGroup('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      // Grandchildren that outlived the leader.
      signalGroup('SIGKILL');
    },
  };
}

/** Runs a shell line to completion in its own group; resolves with its exit code and output. */
export async function runLine(line: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | string; output: string }> {
  const group = startGroup('sh', ['-c', line], env);
  const timer = setTimeout(() => void group.stop(), timeoutMs);
  const code = await group.exited;
  clearTimeout(timer);
  return { code, output: group.output() };
}

/** Removes the package and everything it made (dpkg -P: data, user), and what a failed run left. */
export function purgePackage(): void {
  spawnSync('dpkg', ['-P', 'ninjait-agent'], { stdio: 'ignore' });
  rmSync('/etc/default/ninjait-agent', { force: true });
}
