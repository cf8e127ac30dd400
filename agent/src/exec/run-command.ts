import { StringDecoder } from 'node:string_decoder';
import type { ChildProcess } from 'node:child_process';
import { createChunkBatcher, type Chunk } from './chunk-batcher.ts';
import { invocationFor, killTree, spawnTree } from './process-tree.ts';
import type { CommandSpec, OutputStream, StoredResult } from './types.ts';

/** Output forwarded per command: one byte past the server's cap, so the server flags it truncated. */
export const MAX_FORWARDED_BYTES = 1024 * 1024 + 1;
/** After the shell exits, background children holding its pipes get this long before we stop reading. */
const PIPE_DRAIN_MS = 1_000;

export interface RunHooks {
  scriptDir: string;
  platform: NodeJS.Platform;
  outputIntervalMs: number;
  started(): Promise<void>;
  output(chunks: Chunk[]): Promise<void>;
  onError(error: unknown): void;
}

export interface RunningCommand {
  cancel(): void;
  /** Resolves with the result once every output chunk has been reported. */
  done: Promise<StoredResult>;
  readonly pid: number | undefined;
}

/**
 * Runs one command as a process tree: streams stdout/stderr as ordered chunks, kills the whole
 * tree on timeout or cancel, and resolves with the status and exit code.
 */
export function runCommand(spec: CommandSpec, hooks: RunHooks): RunningCommand {
  let child: ChildProcess | null = null;
  let endedBy: 'timed_out' | 'cancelled' | null = null;
  const batcher = createChunkBatcher({ intervalMs: hooks.outputIntervalMs, send: hooks.output, onError: hooks.onError });
  let forwarded = 0;
  const forward = (stream: OutputStream, text: string) => {
    if (!text || forwarded >= MAX_FORWARDED_BYTES) return;
    const bytes = Buffer.byteLength(text);
    const room = MAX_FORWARDED_BYTES - forwarded;
    forwarded += Math.min(bytes, room);
    batcher.push(stream, bytes <= room ? text : Buffer.from(text).subarray(0, room).toString('utf8'));
  };
  const stop = (reason: 'timed_out' | 'cancelled') => {
    if (endedBy) return;
    endedBy = reason;
    if (child) killTree(child, hooks.platform);
  };

  const done = (async (): Promise<StoredResult> => {
    const invocation = await invocationFor(spec, hooks.scriptDir);
    try {
      const proc = spawnTree(invocation.file, invocation.args, {
        platform: hooks.platform,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...spec.env, NINJAIT_COMMAND_ID: spec.id },
      });
      child = proc;
      const spawned = await new Promise<Error | null>((resolve) => {
        proc.once('spawn', () => resolve(null));
        proc.once('error', resolve);
      });
      if (spawned) return { status: 'failed', exitCode: null, error: `Could not start ${invocation.file}: ${spawned.message}` };
      const timer = setTimeout(() => stop('timed_out'), spec.timeoutSec * 1000);
      if (endedBy) killTree(proc, hooks.platform);
      // Reported through the batcher's chain, so `started` reaches the server before any output.
      void batcher.then(hooks.started);
      for (const stream of ['stdout', 'stderr'] as const) {
        const decoder = new StringDecoder('utf8');
        proc[stream]!.on('data', (data: Buffer) => forward(stream, decoder.write(data)));
        proc[stream]!.on('end', () => forward(stream, decoder.end()));
      }
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => proc.once('exit', (c, s) => resolve([c, s])));
      clearTimeout(timer);
      // Wait for the pipes to close (output still buffered); a background child may hold them open.
      await new Promise<void>((resolve) => {
        if (proc.stdout!.readableEnded && proc.stderr!.readableEnded) return resolve();
        const drain = setTimeout(() => {
          proc.stdout!.destroy();
          proc.stderr!.destroy();
          resolve();
        }, endedBy ? 100 : PIPE_DRAIN_MS);
        proc.once('close', () => {
          clearTimeout(drain);
          resolve();
        });
      });
      await batcher.drain();
      if (endedBy === 'timed_out') return { status: 'timed_out', exitCode: code, error: `Timed out after ${spec.timeoutSec} s; the process tree was killed` };
      if (endedBy === 'cancelled') return { status: 'cancelled', exitCode: code, error: 'Cancelled; the process tree was killed' };
      if (code === 0) return { status: 'succeeded', exitCode: 0, error: null };
      return { status: 'failed', exitCode: code, error: signal ? `Killed by ${signal}` : null };
    } finally {
      await invocation.cleanup().catch(() => undefined);
    }
  })();

  return {
    cancel: () => stop('cancelled'),
    done,
    get pid() {
      return child?.pid;
    },
  };
}
