import { z } from 'zod';
import { boundedText } from './bounds.ts';

/**
 * One file-transfer chunk: 1 MiB, about 1.4 MB as base64, well inside the 4 MB WebSocket message
 * bound; larger chunks spread the per-request cost (session, device lookup, relay) over more bytes.
 */
export const FILE_CHUNK_BYTES = 1024 * 1024;
/**
 * Chunks a sender keeps in flight, unacknowledged (the back-pressure): enough to keep the relay
 * busy while one chunk is being written, bounded so a transfer holds at most 8 MiB in memory.
 */
export const TRANSFER_WINDOW = 8;
/** The largest file one transfer moves. */
export const MAX_TRANSFER_BYTES = 64 * 1024 ** 3;
/** Entries one directory listing returns; the rest are counted, not listed. */
export const MAX_LIST_ENTRIES = 5_000;
export const MAX_PATH_CHARS = 4_096;
export const MAX_LOG_LINES = 1_000;
/** Terminal size bounds (columns, rows). */
export const TERMINAL_COLS = { min: 2, max: 1_000 } as const;
export const TERMINAL_ROWS = { min: 2, max: 500 } as const;

export const SIGNALS = ['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP', 'SIGSTOP', 'SIGCONT'] as const;
export const SERVICE_ACTIONS = ['start', 'stop', 'restart'] as const;

const path = z.string().min(1).max(MAX_PATH_CHARS).refine((p) => !p.includes('\0'), 'A path cannot contain NUL');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
/** 32 random bytes, base64url: what admits one download stream (protocol/device-streams.ts). */
const streamTicket = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
const offset = z.number().int().min(0).max(MAX_TRANSFER_BYTES);
/** Any character base64 does not use. */
const NOT_BASE64 = /[^A-Za-z0-9+/=]/;
/**
 * Standard base64, padding only at the end. Checked with a search for one bad character rather
 * than an anchored `^[A-Za-z0-9+/]*={0,2}$`, which V8 runs 8 times slower: on a 1.4 MB chunk,
 * checked by the server twice and by the agent once, it was a third of a transfer's server CPU.
 */
export function isBase64(text: string): boolean {
  if (NOT_BASE64.test(text)) return false;
  const pad = text.indexOf('=');
  return pad === -1 || (text.length - pad <= 2 && text.endsWith('='.repeat(text.length - pad)));
}
const base64Chunk = z.string().max(Math.ceil(FILE_CHUNK_BYTES / 3) * 4).refine(isBase64, 'Not base64');
/** A service or unit name: no option-looking or path-like values reach systemctl, launchctl or sc.exe. */
export const serviceName = z.string().min(1).max(256).regex(/^[A-Za-z0-9_.@:\- ]+$/).refine((n) => !n.startsWith('-'), 'A service name cannot start with "-"');

/** Each request the server may send a device, by kind. */
export const remoteOps = {
  'fs.list': z.object({ kind: z.literal('fs.list'), path }).strict(),
  /** One folder, in a folder that exists: a folder upload creates its tree top-down. */
  'fs.mkdir': z.object({ kind: z.literal('fs.mkdir'), path }).strict(),
  'fs.uploadBegin': z.object({ kind: z.literal('fs.uploadBegin'), transferId: z.uuid(), path, size: offset, overwrite: z.boolean() }).strict(),
  'fs.uploadChunk': z.object({ kind: z.literal('fs.uploadChunk'), transferId: z.uuid(), path, offset, data: base64Chunk }).strict(),
  'fs.uploadFinish': z.object({ kind: z.literal('fs.uploadFinish'), transferId: z.uuid(), path, size: offset, sha256, overwrite: z.boolean() }).strict(),
  'fs.uploadAbort': z.object({ kind: z.literal('fs.uploadAbort'), transferId: z.uuid(), path }).strict(),
  'fs.downloadBegin': z.object({ kind: z.literal('fs.downloadBegin'), path }).strict(),
  'fs.downloadChunk': z.object({ kind: z.literal('fs.downloadChunk'), path, offset, length: z.number().int().min(1).max(FILE_CHUNK_BYTES) }).strict(),
  /**
   * Sent by the server only, never on behalf of a caller (see `protocol/device-streams.ts`): the device
   * opens a connection of its own to the server with `ticket` and writes the range there.
   */
  'fs.downloadStream': z.object({ kind: z.literal('fs.downloadStream'), path, offset, length: z.number().int().min(1).max(MAX_TRANSFER_BYTES), ticket: streamTicket }).strict(),
  'proc.list': z.object({ kind: z.literal('proc.list') }).strict(),
  'proc.kill': z.object({ kind: z.literal('proc.kill'), pid: z.number().int().min(1).max(2 ** 31 - 1), signal: z.enum(SIGNALS) }).strict(),
  'svc.list': z.object({ kind: z.literal('svc.list') }).strict(),
  'svc.control': z.object({ kind: z.literal('svc.control'), name: serviceName, action: z.enum(SERVICE_ACTIONS) }).strict(),
  'logs.query': z.object({ kind: z.literal('logs.query'), lines: z.number().int().min(1).max(MAX_LOG_LINES), filter: z.string().max(200).optional() }).strict(),
} as const;

/** What the server asks a device to do (sent on its command stream as `{ type: 'remote', requestId, op }`). */
export const remoteOpSchema = z.discriminatedUnion('kind', Object.values(remoteOps) as unknown as [typeof remoteOps['fs.list'], ...(typeof remoteOps)[keyof typeof remoteOps][]]);
export type RemoteOp = z.infer<typeof remoteOpSchema>;
export type RemoteOpKind = RemoteOp['kind'];
/** The ops a person (or the local CLI) may ask for: all but those only the server itself sends. */
export type PersonRemoteOpKind = Exclude<RemoteOpKind, 'fs.downloadStream'>;

const text = (max: number) => boundedText(max);
const fileEntry = z.object({
  name: text(1024), type: z.enum(['file', 'dir', 'link', 'other']), size: offset.nullable(), mtimeMs: z.number().nullable(), mode: z.number().int().nullable(),
}).strict();
const processRow = z.object({
  pid: z.number().int(), ppid: z.number().int().nullable(), name: text(256), user: text(256), cpu: z.number(), memRssKb: z.number(),
  command: text(4096), started: text(64),
}).strict();
const serviceRow = z.object({ name: text(256), state: text(64), description: text(512) }).strict();
const logRow = z.object({ time: text(64), level: text(32), source: text(256), message: text(8192) }).strict();

/** What a device answers, per op kind: bounded like any other input from the network. */
export const remoteResultSchemas = {
  'fs.list': z.object({ path: text(MAX_PATH_CHARS), entries: z.array(fileEntry).max(MAX_LIST_ENTRIES), omitted: z.number().int().min(0) }).strict(),
  'fs.mkdir': z.object({ path: text(MAX_PATH_CHARS), created: z.boolean() }).strict(),
  'fs.uploadBegin': z.object({ path: text(MAX_PATH_CHARS), offset }).strict(),
  'fs.uploadChunk': z.object({ offset }).strict(),
  'fs.uploadFinish': z.object({ path: text(MAX_PATH_CHARS), size: offset, sha256 }).strict(),
  'fs.uploadAbort': z.object({ removed: z.boolean() }).strict(),
  'fs.downloadBegin': z.object({ path: text(MAX_PATH_CHARS), size: offset, sha256, mtimeMs: z.number() }).strict(),
  'fs.downloadChunk': z.object({ offset, data: base64Chunk }).strict(),
  /** The stream is open: its bytes are on their way on the device's own connection. */
  'fs.downloadStream': z.object({ streaming: z.literal(true) }).strict(),
  'proc.list': z.object({ processes: z.array(processRow).max(20_000) }).strict(),
  'proc.kill': z.object({ pid: z.number().int(), signal: z.enum(SIGNALS) }).strict(),
  'svc.list': z.object({ manager: text(32), services: z.array(serviceRow).max(5_000) }).strict(),
  'svc.control': z.object({ name: text(256), action: z.enum(SERVICE_ACTIONS), output: text(8192) }).strict(),
  'logs.query': z.object({ source: text(64), entries: z.array(logRow).max(MAX_LOG_LINES) }).strict(),
} satisfies Record<RemoteOpKind, z.ZodType>;
export type RemoteResult<K extends RemoteOpKind> = z.infer<(typeof remoteResultSchemas)[K]>;

/** Why a device refused or failed a request: a code people and scripts can act on, and a sentence. */
export const REMOTE_ERROR_CODES = ['NOT_FOUND', 'FORBIDDEN', 'BAD_REQUEST', 'CONFLICT', 'ENOSPC', 'UNSUPPORTED', 'FAILED'] as const;
export const remoteErrorSchema = z.object({ code: z.enum(REMOTE_ERROR_CODES), message: text(1000) }).strict();
export type RemoteError = z.infer<typeof remoteErrorSchema>;
