import { execFile } from 'node:child_process';
import { RemoteFailure } from './errors.ts';

/**
 * Runs an OS tool with an argument array (never a shell string), bounded in time and output. A
 * tool this device lacks is UNSUPPORTED, not a crash.
 */
export function runTool(file: string, args: readonly string[], opts: { timeoutMs?: number; maxBytes?: number } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: opts.timeoutMs ?? 30_000, maxBuffer: opts.maxBytes ?? 32 * 1024 * 1024, windowsHide: true, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code;
      if (code === 'ENOENT') return reject(new RemoteFailure('UNSUPPORTED', `${file} is not available on this device`));
      if (error && typeof code !== 'number' && (error as { killed?: boolean }).killed) return reject(new RemoteFailure('FAILED', `${file} took too long`));
      resolve({ stdout, stderr, code: typeof code === 'number' ? code : error ? 1 : 0 });
    });
  });
}
