import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';
import type { ChildProcess } from 'node:child_process';
import { killTree, spawnTree } from './process-tree.ts';

/** One running shell as the sessions see it: a pty or a piped child process. */
export interface Terminal {
  readonly pty: boolean;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  /** Stops reading output (back-pressure: the program blocks once the kernel buffer fills); `resume` reads again. */
  pause(): void;
  resume(): void;
  kill(): void;
  onData(listener: (text: string) => void): void;
  /** Once, with the exit code, or null and an error when it could not start. */
  onExit(listener: (exitCode: number | null, error?: Error) => void): void;
}

type PtyModule = typeof import('node-pty');

let loaded: PtyModule | null | undefined;
/**
 * node-pty, loaded on first use: a native addon, absent where it was not built or shipped. Its
 * absence is not an error: the sessions fall back to a piped shell and say so.
 */
export function loadPty(): PtyModule | null {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)('node-pty') as PtyModule;
  } catch {
    loaded = null;
  }
  return loaded;
}

export interface ShellChoice {
  file: string;
  /** Arguments with a terminal (interactive), and without one (commands read from stdin). */
  ptyArgs: string[];
  pipedArgs: string[];
}

export const SHELLS: Record<string, ShellChoice> = {
  sh: { file: '/bin/sh', ptyArgs: ['-i'], pipedArgs: [] },
  bash: { file: 'bash', ptyArgs: ['--login', '-i'], pipedArgs: ['--norc', '--noprofile'] },
  powershell: { file: 'powershell.exe', ptyArgs: ['-NoLogo'], pipedArgs: ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', '-'] },
  cmd: { file: 'cmd.exe', ptyArgs: [], pipedArgs: ['/Q'] },
};

export interface TerminalOptions {
  shell: ShellChoice;
  cols: number;
  rows: number;
  env: NodeJS.ProcessEnv;
  cwd: string;
  platform: NodeJS.Platform;
  /** False: never use a pty (NINJAIT_PTY=0, or none loads). */
  usePty: boolean;
}

/** A pty when one is available and wanted, else a piped shell. */
export function startTerminal(opts: TerminalOptions): Terminal {
  const pty = opts.usePty ? loadPty() : null;
  if (!pty) return pipedTerminal(opts);
  const child = pty.spawn(opts.shell.file, opts.shell.ptyArgs, {
    name: 'xterm-256color', cols: opts.cols, rows: opts.rows, cwd: opts.cwd,
    env: { ...opts.env, TERM: 'xterm-256color', COLORTERM: 'truecolor' } as Record<string, string>,
  });
  let exited = false;
  return {
    pty: true,
    write: (data) => {
      if (!exited) child.write(data);
    },
    resize: (cols, rows) => {
      if (!exited) child.resize(cols, rows);
    },
    pause: () => child.pause(),
    resume: () => child.resume(),
    kill: () => {
      if (exited) return;
      // The whole foreground job too: the shell's session leader gets SIGHUP like a closed terminal.
      try {
        if (opts.platform === 'win32') child.kill();
        else process.kill(-child.pid, 'SIGHUP');
      } catch {
        child.kill();
      }
      const hard = setTimeout(() => {
        try {
          if (!exited) child.kill('SIGKILL');
        } catch { /* gone already */ }
      }, 2_000);
      hard.unref();
    },
    onData: (listener) => void child.onData(listener),
    onExit: (listener) => void child.onExit(({ exitCode }) => {
      exited = true;
      listener(exitCode);
    }),
  };
}

/** Today's piped shell: no line editing, no full-screen programs, no resize. */
function pipedTerminal(opts: TerminalOptions): Terminal {
  const child: ChildProcess = spawnTree(opts.shell.file, opts.shell.pipedArgs, { platform: opts.platform, stdio: ['pipe', 'pipe', 'pipe'], env: opts.env, cwd: opts.cwd });
  child.stdin!.on('error', () => undefined);
  let started = false;
  child.once('spawn', () => void (started = true));
  return {
    pty: false,
    write: (data) => void child.stdin!.write(data),
    resize: () => undefined,
    pause: () => {
      child.stdout!.pause();
      child.stderr!.pause();
    },
    resume: () => {
      child.stdout!.resume();
      child.stderr!.resume();
    },
    kill: () => killTree(child, opts.platform),
    onData: (listener) => {
      for (const stream of [child.stdout!, child.stderr!]) {
        const decoder = new StringDecoder('utf8');
        stream.on('data', (data: Buffer) => listener(decoder.write(data)));
      }
    },
    onExit: (listener) => {
      child.once('error', (error) => {
        if (!started) listener(null, error);
      });
      child.once('close', (code) => listener(code));
    },
  };
}
