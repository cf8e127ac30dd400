import { tmpdir, homedir } from 'node:os';
import type { Logger } from '../log.ts';
import { createChunkBatcher } from './chunk-batcher.ts';
import { SHELLS, startTerminal, type Terminal } from './terminal.ts';
import type { AgentClient, ShellMessage } from './types.ts';

type ShellEvent = Parameters<AgentClient['agent']['shellOutput']['mutate']>[0]['event'];

/**
 * Output characters waiting for the server before the terminal stops being read: the program
 * then blocks on a full pty (or pipe) instead of the agent buffering without end.
 */
export const SHELL_BACKLOG_CHARS = 256 * 1024;

/**
 * How often a terminal's output goes to the server at most: the first output after a quiet
 * spell goes at once, and a typist's next key is echoed within this; `cat` of a big file still
 * goes in batches (at most ~66 a second per terminal).
 */
export const SHELL_OUTPUT_INTERVAL_MS = 15;

/**
 * Terminals open at once on this device. Each is a shell process and a pseudo-terminal; a
 * stolen technician session or a runaway script must not be able to open them without end.
 */
export const MAX_SHELL_SESSIONS = 32;

interface Session {
  terminal: Terminal;
  idle: NodeJS.Timeout;
  idleTimeoutSec: number;
  closing: string | null;
}

export interface ShellSessionOptions {
  client: AgentClient;
  log: Logger;
  platform: NodeJS.Platform;
  outputIntervalMs: number;
  signal: AbortSignal;
  /** False: piped shells only (NINJAIT_PTY=0). */
  usePty?: boolean;
}

/**
 * Interactive shells, several per device: a pseudo-terminal per session where node-pty loads
 * (resize, colours, full-screen programs, Ctrl-C/Ctrl-Z to the foreground job), else a piped
 * shell, which the `opened` report says. Idle for `idleTimeoutSec` without input or output, the
 * session's processes are killed.
 */
export function createShellSessions(opts: ShellSessionOptions) {
  const { client, log, platform } = opts;
  const sessions = new Map<string, Session>();

  const report = async (sessionId: string, event: ShellEvent) => {
    try {
      await client.agent.shellOutput.mutate({ sessionId, event });
    } catch (error) {
      log.warn({ err: error, sessionId }, 'could not report shell output');
    }
  };

  const close = (sessionId: string, reason: string) => {
    const session = sessions.get(sessionId);
    if (!session || session.closing) return;
    session.closing = reason;
    session.terminal.resume();
    session.terminal.kill();
  };

  const touch = (sessionId: string) => {
    const session = sessions.get(sessionId);
    if (!session) return;
    clearTimeout(session.idle);
    session.idle = setTimeout(() => close(sessionId, 'idle timeout'), session.idleTimeoutSec * 1000);
    session.idle.unref();
  };

  function open(message: Extract<ShellMessage, { type: 'shell-open' }>) {
    if (sessions.has(message.sessionId)) return;
    if (sessions.size >= MAX_SHELL_SESSIONS) {
      void report(message.sessionId, { type: 'closed', reason: `${MAX_SHELL_SESSIONS} terminals are already open on this device: close one first`, exitCode: null });
      return;
    }
    const shell = SHELLS[message.shell] ?? SHELLS.sh!;
    let terminal: Terminal;
    try {
      terminal = startTerminal({
        shell, cols: message.cols ?? 80, rows: message.rows ?? 24, platform, usePty: opts.usePty ?? true,
        env: { ...process.env, NINJAIT_SHELL_SESSION: message.sessionId }, cwd: safeHome(),
      });
    } catch (error) {
      void report(message.sessionId, { type: 'closed', reason: `could not start ${shell.file}: ${(error as Error).message}`, exitCode: null });
      return;
    }
    let backlog = 0;
    let paused = false;
    const batcher = createChunkBatcher({
      intervalMs: opts.outputIntervalMs,
      send: async (chunks) => {
        for (const chunk of chunks) {
          await report(message.sessionId, { type: 'output', ...chunk });
          backlog -= chunk.data.length;
        }
        if (paused && backlog < SHELL_BACKLOG_CHARS / 2) {
          paused = false;
          terminal.resume();
        }
      },
    });
    const session: Session = { terminal, idle: setTimeout(() => undefined, 0), idleTimeoutSec: message.idleTimeoutSec, closing: null };
    sessions.set(message.sessionId, session);
    touch(message.sessionId);
    terminal.onData((text) => {
      touch(message.sessionId);
      backlog += text.length;
      batcher.push('stdout', text);
      if (!paused && backlog >= SHELL_BACKLOG_CHARS) {
        paused = true;
        terminal.pause();
      }
    });
    void batcher.then(() => report(message.sessionId, { type: 'opened', sessionId: message.sessionId, pty: terminal.pty }));
    terminal.onExit((exitCode, error) => {
      clearTimeout(session.idle);
      sessions.delete(message.sessionId);
      const reason = error ? `could not start ${shell.file}: ${error.message}` : 'shell exited';
      void batcher.then(() => report(message.sessionId, { type: 'closed', reason: session.closing ?? reason, exitCode }));
    });
  }

  opts.signal.addEventListener('abort', () => {
    for (const id of sessions.keys()) close(id, 'agent stopping');
  }, { once: true });

  return {
    handle(message: ShellMessage) {
      if (message.type === 'shell-open') return open(message);
      if (message.type === 'shell-close') return close(message.sessionId, 'closed by the technician');
      const session = sessions.get(message.sessionId);
      if (!session || session.closing) return;
      touch(message.sessionId);
      if (message.type === 'shell-resize') return session.terminal.resize(message.cols, message.rows);
      session.terminal.write(message.data);
    },
    get size() {
      return sessions.size;
    },
  };
}

/** The shell starts in the agent user's home folder, or the temp folder when it has none. */
function safeHome(): string {
  try {
    return homedir() || tmpdir();
  } catch {
    return tmpdir();
  }
}
