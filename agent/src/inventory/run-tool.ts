import { execFile } from 'node:child_process';

/** Output a collector reads at most: a package list of 20,000 lines fits many times over. */
export const TOOL_MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
export const TOOL_TIMEOUT_MS = 120_000;

export interface ToolResult {
  /** Exit code; null when the tool is missing, timed out or was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why there is no exit code (ENOENT, timeout …). */
  error: string | null;
}

/** Runs a tool with an argument array (never a shell), a timeout and bounded output; never throws. */
export type RunTool = (file: string, args: readonly string[], options?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }) => Promise<ToolResult>;

export const runTool: RunTool = (file, args, options = {}) => new Promise((resolve) => {
  execFile(file, [...args], {
    timeout: options.timeoutMs ?? TOOL_TIMEOUT_MS,
    maxBuffer: TOOL_MAX_OUTPUT_BYTES,
    windowsHide: true,
    encoding: 'utf8',
    // A stable language: parsers read English headers and dots in numbers.
    env: { ...process.env, LC_ALL: 'C', LANG: 'C', ...options.env },
  }, (error, stdout, stderr) => {
    if (!error) return resolve({ code: 0, stdout, stderr, error: null });
    const failure = error as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
    const code = typeof failure.code === 'number' ? failure.code : null;
    resolve({ code, stdout: stdout ?? '', stderr: stderr ?? '', error: code === null ? String(failure.code ?? failure.message) : null });
  });
});

/** Lines of a tool's output, without the empty ones. */
export const lines = (text: string) => text.split(/\r?\n/).filter((line) => line.trim() !== '');
