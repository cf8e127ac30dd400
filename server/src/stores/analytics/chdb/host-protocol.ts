/**
 * What the server and its chdb process (chdb-host.ts) say to each other over Node's IPC channel.
 * Only the server's own code is on either end: the channel is a pipe between a parent and the
 * child it forked, never a socket anyone else can open.
 */

/** One chdb call: the SQL with its bound parameters and output format, or a raw insert. */
export type HostCall =
  | { kind: 'query'; sql: string; params: Record<string, unknown> | null; format: string }
  | { kind: 'insert'; table: string; columns: string[]; values: string; format: 'JSONCompactEachRow'; settings: Record<string, string | number> };

export type HostRequest = { id: number; call: HostCall } | { id: 0; close: true };

export type HostReply =
  | { id: number; ok: true; text: string }
  | { id: number; ok: false; error: string }
  /** The session could not be opened (another process held the folder too long, a broken folder). */
  | { id: 0; failed: string };
