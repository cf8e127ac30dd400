import cluster, { type Worker } from 'node:cluster';
import type { ChdbProcess } from './chdb-process.ts';
import type { HostCall } from './host-protocol.ts';

/**
 * chdb opens a folder in one process only. When the server runs as several workers (WORKERS),
 * the first process (the cluster's primary) keeps the folder's chdb process and the workers'
 * calls travel to it over the cluster's IPC channel: a pipe between the primary and the workers
 * it forked, which nothing else can open.
 */
interface RelayCall { ninjaitChdb: 'call'; dir: string; id: number; call: HostCall }
type RelayReply = { ninjaitChdb: 'reply'; id: number; ok: true; text: string } | { ninjaitChdb: 'reply'; id: number; ok: false; error: string };

const isRelayCall = (message: unknown): message is RelayCall =>
  typeof message === 'object' && message !== null && (message as { ninjaitChdb?: unknown }).ninjaitChdb === 'call';
const isRelayReply = (message: unknown): message is RelayReply =>
  typeof message === 'object' && message !== null && (message as { ninjaitChdb?: unknown }).ninjaitChdb === 'reply';

/** In a worker: the folder's chdb, reached through the primary. */
export function chdbThroughPrimary(dir: string): ChdbProcess {
  let nextId = 1;
  let closed = false;
  const pending = new Map<number, { resolve(text: string): void; reject(error: Error): void }>();
  const onMessage = (message: unknown) => {
    if (!isRelayReply(message)) return;
    const call = pending.get(message.id);
    if (!call) return;
    pending.delete(message.id);
    if (message.ok) call.resolve(message.text);
    else call.reject(new Error(message.error));
  };
  const onDisconnect = () => {
    for (const call of pending.values()) call.reject(new Error('the server\'s first process (which runs chdb for its workers) is gone'));
    pending.clear();
  };
  process.on('message', onMessage);
  process.once('disconnect', onDisconnect);
  return {
    call(call) {
      if (closed) return Promise.reject(new Error('The chdb analytics store is closed'));
      const id = nextId++;
      return new Promise<string>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        process.send!({ ninjaitChdb: 'call', dir, id, call } satisfies RelayCall, undefined, {}, (error: Error | null) => {
          if (!error || !pending.has(id)) return;
          pending.delete(id);
          reject(error);
        });
      });
    },
    async close() {
      closed = true;
      process.off('message', onMessage);
      process.off('disconnect', onDisconnect);
      onDisconnect();
    },
    pid: () => null,
  };
}

/**
 * In the primary: runs the workers' calls for the folder `dir` (and no other) in `host`, and
 * answers the worker that asked. Returns a function that stops relaying.
 */
export function relayChdbToWorkers(dir: string, host: ChdbProcess): () => void {
  const onMessage = (worker: Worker, message: unknown) => {
    if (!isRelayCall(message)) return;
    const { id } = message;
    const answer = (reply: RelayReply) => {
      if (worker.isConnected()) worker.send(reply);
    };
    if (message.dir !== dir) {
      answer({ ninjaitChdb: 'reply', id, ok: false, error: `chdb runs for ${dir} only` });
      return;
    }
    host.call(message.call).then(
      (text) => answer({ ninjaitChdb: 'reply', id, ok: true, text }),
      (error: unknown) => answer({ ninjaitChdb: 'reply', id, ok: false, error: error instanceof Error ? error.message : String(error) }),
    );
  };
  cluster.on('message', onMessage);
  return () => cluster.off('message', onMessage);
}
