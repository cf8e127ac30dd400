import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { HostCall, HostReply, HostRequest } from './host-protocol.ts';

/**
 * The host's entry beside this module: the TypeScript source in a checkout (tests, `tsx`), the
 * bundle's own entry in server/dist, where this code sits in a chunk of the same folder.
 */
const runsFromSource = import.meta.url.endsWith('.ts');
const HOST_ENTRY = fileURLToPath(new URL(runsFromSource ? './chdb-host.ts' : './chdb-host.mjs', import.meta.url));
/** From source the child needs tsx's loader, found from here, whatever the working folder. */
const HOST_EXEC_ARGV = runsFromSource ? ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href] : [];

/** How long a closing host may take to close its session before it is killed. */
const CLOSE_WAIT_MS = 10_000;

export interface ChdbProcess {
  /** Runs one call in the host; resolves with its output (JSONEachRow text, empty for an insert). */
  call(call: HostCall): Promise<string>;
  /** Closes the session and ends the host; calls still waiting fail. */
  close(): Promise<void>;
  /** The host's process id while one runs (for its memory in /metrics and the benchmarks). */
  pid(): number | null;
}

interface Pending { resolve(text: string): void; reject(error: Error): void }

/**
 * chdb in a child process (chdb-host.ts) for the folder `dir`, started at the first call and
 * again at the first call after it died: a crash inside chdb fails the calls it was running
 * (the drainer retries them, its writes carry deduplication tokens) instead of ending the server.
 * The host ends with the server however the server ends: it watches the IPC channel.
 */
export function startChdbProcess(dir: string): ChdbProcess {
  let child: ChildProcess | null = null;
  let closed = false;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  // An idle host must not keep the server's event loop alive (in process, chdb never did):
  // the child and its channel hold the loop only while a call waits for its answer.
  const holdLoop = (running: ChildProcess, hold: boolean) => {
    if (hold) {
      running.ref();
      running.channel?.ref();
    } else {
      running.unref();
      running.channel?.unref();
    }
  };

  const failAll = (error: Error) => {
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };

  function start(): ChildProcess {
    const started = fork(HOST_ENTRY, [dir], { execArgv: HOST_EXEC_ARGV, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let failure = '';
    started.on('message', (reply: HostReply) => {
      if ('failed' in reply) failure = `: ${reply.failed}`;
      if (!('ok' in reply)) return;
      const call = pending.get(reply.id);
      if (!call) return;
      pending.delete(reply.id);
      if (reply.ok) call.resolve(reply.text);
      else call.reject(new Error(reply.error));
      if (pending.size === 0 && child === started) holdLoop(started, false);
    });
    started.once('exit', (code, signal) => {
      if (child === started) child = null;
      failAll(new Error(`the embedded analytics store's process (chdb) ended (${signal ?? `exit code ${code}`})${failure}`));
    });
    // A failed fork (no such entry) is reported through 'exit' too; 'error' alone would throw.
    started.on('error', () => undefined);
    return started;
  }

  return {
    call(call) {
      if (closed) return Promise.reject(new Error('The chdb analytics store is closed'));
      child ??= start();
      const running = child;
      const id = nextId++;
      return new Promise<string>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        holdLoop(running, true);
        running.send({ id, call } satisfies HostRequest, (error) => {
          if (!error || !pending.has(id)) return;
          pending.delete(id);
          reject(error);
        });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      const running = child;
      if (!running) return;
      holdLoop(running, true);
      const exited = once(running, 'exit');
      running.send({ id: 0, close: true } satisfies HostRequest, () => undefined);
      const timer = setTimeout(() => running.kill('SIGKILL'), CLOSE_WAIT_MS);
      await exited;
      clearTimeout(timer);
    },
    pid: () => child?.pid ?? null,
  };
}
