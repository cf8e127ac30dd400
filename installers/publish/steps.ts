import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** How much of a failed step's output is kept for the report. */
const OUTPUT_TAIL_CHARS = 2_000;

/** Whether `name` is an executable on PATH (how a build tool's presence is checked). */
export function hasCommand(name: string, path = process.env.PATH ?? ''): boolean {
  return path.split(delimiter).filter(Boolean).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export interface Step {
  /** For messages: "the .deb build". */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/**
 * Runs one build step as its own process group (an argument array, no shell), so that an abort
 * stops it and everything it started (tar, dpkg-deb, rpmbuild) at once. Rejects with the end of
 * its output when it fails.
 */
export function runStep(step: Step, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error(`${step.name}: stopped`));
    const child = spawn(step.command, step.args, { cwd: step.cwd, env: step.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const stop = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    signal.addEventListener('abort', stop, { once: true });
    child.once('error', (err) => {
      signal.removeEventListener('abort', stop);
      reject(new Error(`${step.name}: ${err.message}`));
    });
    child.once('close', (code, killedBy) => {
      signal.removeEventListener('abort', stop);
      if (code === 0) resolve();
      else reject(new Error(`${step.name} failed (${signal.aborted ? 'stopped' : killedBy ?? `exit ${code}`}): ${tail.trim()}`));
    });
  });
}
