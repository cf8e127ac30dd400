import { StringDecoder } from 'node:string_decoder';
import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../log.ts';
import { createChunkBatcher } from './chunk-batcher.ts';
import { killTree, spawnTree } from './process-tree.ts';
import type { AgentClient, ShellMessage } from './types.ts';

type ShellEvent = Parameters<AgentClient['agent']['shellOutput']['mutate']>[0]['event'];

interface Session {
  child: ChildProcess;
  idle: NodeJS.Timeout;
  idleTimeoutSec: number;
  closing: string | null;
}

const SHELL_ARGS: Record<string, [string, string[]]> = {
  sh: ['/bin/sh', []],
  bash: ['bash', ['--norc', '--noprofile']],
  powershell: ['powershell.exe', ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', '-']],
  cmd: ['cmd.exe', ['/Q']],
};

/**
 * Interactive shells: a piped shell per session (no pty, so no prompt editing, full-screen
 * programs or resize). Idle for `idleTimeoutSec` without input or output, the tree is killed.
 */
export function createShellSessions(opts: { client: AgentClient; log: Logger; platform: NodeJS.Platform; outputIntervalMs: number; signal: AbortSignal }) {
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
    killTree(session.child, platform);
  };

  const touch = (sessionId: string) => {
    const session = sessions.get(sessionId);
    if (!session) return;
    clearTimeout(session.idle);
    session.idle = setTimeout(() => close(sessionId, 'idle timeout'), session.idleTimeoutSec * 1000);
  };

  function open(message: Extract<ShellMessage, { type: 'shell-open' }>) {
    if (sessions.has(message.sessionId)) return;
    const [file, args] = SHELL_ARGS[message.shell] ?? SHELL_ARGS.sh!;
    const child = spawnTree(file, args, { platform, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NINJAIT_SHELL_SESSION: message.sessionId } });
    const batcher = createChunkBatcher({
      intervalMs: opts.outputIntervalMs,
      send: async (chunks) => {
        for (const chunk of chunks) await report(message.sessionId, { type: 'output', ...chunk });
      },
    });
    const session: Session = { child, idle: setTimeout(() => undefined, 0), idleTimeoutSec: message.idleTimeoutSec, closing: null };
    sessions.set(message.sessionId, session);
    touch(message.sessionId);
    child.stdin!.on('error', () => undefined);
    for (const stream of ['stdout', 'stderr'] as const) {
      const decoder = new StringDecoder('utf8');
      child[stream]!.on('data', (data: Buffer) => {
        touch(message.sessionId);
        batcher.push(stream, decoder.write(data));
      });
    }
    let started = false;
    child.once('spawn', () => {
      started = true;
      void batcher.then(() => report(message.sessionId, { type: 'opened', sessionId: message.sessionId }));
    });
    const finish = (exitCode: number | null, reason: string) => {
      clearTimeout(session.idle);
      sessions.delete(message.sessionId);
      void batcher.then(() => report(message.sessionId, { type: 'closed', reason: session.closing ?? reason, exitCode }));
    };
    child.once('error', (error) => {
      if (!started) finish(null, `could not start ${file}: ${error.message}`);
    });
    child.once('close', (code) => finish(code, 'shell exited'));
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
      session.child.stdin!.write(message.data);
    },
    get size() {
      return sessions.size;
    },
  };
}
