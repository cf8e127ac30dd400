/**
 * The embedded ClickHouse (chdb) in a process of its own: `chdb-host <folder>`, forked by
 * chdb-process.ts, answering its calls over the IPC channel. Why not in the server's process:
 * chdb's 180 MB library and its caches were most of an idle `npm start`'s server memory (bench:
 * dashboard), and a crash inside the native library now ends this process, which the server
 * starts again, instead of the server with every agent's connection.
 *
 * It imports nothing of the server: it starts in a few hundred milliseconds, and its only state
 * is the session.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { HostCall, HostReply, HostRequest } from './host-protocol.ts';

interface ChdbResult { text(): string }
interface ChdbSession {
  queryAsync(sql: string, opts?: { format?: string }): Promise<ChdbResult>;
  queryBindAsync(sql: string, params: object, opts?: { format?: string }): Promise<ChdbResult>;
  insert(params: { table: string; columns: string[]; values: string; format: 'JSONCompactEachRow'; settings?: Record<string, string | number> }): Promise<unknown>;
  close(): void;
}

/**
 * How long a folder another process still holds is retried: a server killed with -9 leaves its
 * chdb process behind until that process sees the channel close, a few milliseconds later; a
 * restart must wait that out, not fail.
 */
const OPEN_RETRY_MS = 30_000;
const OPEN_RETRY_EVERY_MS = 100;
/** How often the host checks that the server that started it is still its parent. */
const ORPHAN_CHECK_MS = 1_000;

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Replies to the server; `then` runs once the reply is handed to the channel. */
const send = (reply: HostReply, then: () => void = () => undefined) => process.send?.(reply, then);

async function openSession(dir: string): Promise<ChdbSession> {
  // ClickHouse's own files follow the process umask (owner-only under `serve` and `start`); the
  // folder is private whatever it is, so nothing in it is reachable by another local account.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const { Session } = createRequire(import.meta.url)('chdb') as { Session: new (path: string) => ChdbSession };
  const giveUpAt = Date.now() + OPEN_RETRY_MS;
  for (;;) {
    try {
      return new Session(dir);
    } catch (error) {
      if (Date.now() >= giveUpAt) throw error;
      await new Promise((resolve) => setTimeout(resolve, OPEN_RETRY_EVERY_MS));
    }
  }
}

async function answer(session: ChdbSession, call: HostCall): Promise<string> {
  if (call.kind === 'insert') {
    await session.insert({ table: call.table, columns: call.columns, values: call.values, format: call.format, settings: call.settings });
    return '';
  }
  const result = call.params
    ? await session.queryBindAsync(call.sql, call.params, { format: call.format })
    : await session.queryAsync(call.sql, { format: call.format });
  return result.text();
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (!dir || !process.send) {
    process.stderr.write('chdb-host is started by the NinjaIT server (it needs the folder and an IPC channel)\n');
    process.exit(2);
  }
  // Named in `ps`, with its folder: a leftover is recognisable (and found by a sweep for the folder).
  process.title = `ninjait-chdb ${dir}`;
  // Listening from the first moment: calls the server sends while the session opens are held,
  // not dropped, and a server gone meanwhile ends this process before it takes the folder.
  let session: ChdbSession | null = null;
  const waiting: { id: number; call: HostCall }[] = [];
  const run = (request: { id: number; call: HostCall }) => answer(session!, request.call).then(
    (text) => send({ id: request.id, ok: true, text }),
    (error: unknown) => send({ id: request.id, ok: false, error: reasonOf(error) }),
  );
  const end = () => {
    session?.close();
    process.exit(0);
  };
  // The server is gone (it died, kill -9 included, or the channel closed): this process ends at
  // once, without closing the session, as chdb ended when it ran inside the server's process.
  // ClickHouse recovers from an abrupt end (an unfinished part is dropped at the next open, and
  // the drainers write again what was never acknowledged); a graceful close can wait on its
  // background work for as long as that takes (the server gives it CLOSE_WAIT_MS, then kills
  // it), and an orphan has nobody to kill it: under load one held the folder's lock for over
  // 150 s, and the restarted server could not open its store.
  const orphaned = () => process.kill(process.pid, 'SIGKILL');
  process.on('disconnect', orphaned);
  // In case the channel's end is never seen: a parent that exits leaves this process to another.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) orphaned();
  }, ORPHAN_CHECK_MS).unref();
  process.on('message', (request: HostRequest) => {
    if ('close' in request) return end();
    if (session) void run(request);
    else waiting.push(request);
  });
  try {
    session = await openSession(dir);
  } catch (error) {
    // Exits once the reason is on its way: the server passes it on to whoever waits for the store.
    send({ id: 0, failed: reasonOf(error) }, () => process.exit(1));
    return;
  }
  for (const request of waiting.splice(0)) void run(request);
}

void main();
