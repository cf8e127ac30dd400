import { useRef, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { FILE_CHUNK_BYTES, MAX_FOLDER_ENTRIES, MAX_LIST_ENTRIES, TRANSFER_WINDOW, folderBudget, isSafeEntryName, pumpChunks, withResume, withRetries } from '@ninjait/shared';
import { api } from '../lib/trpc.ts';
import { MAX_ZIP_ENTRIES, zipStore, type ZipEntry } from '../lib/zip.ts';
import { trackedFetch } from '../lib/connection.ts';
import { trpc } from '../lib/trpc-query.ts';
import { dateTime } from '../lib/format.ts';
import { Card, Empty, ErrorNote, QueryView } from '../components/ui.tsx';

/**
 * The browser keeps a whole file in memory to hash it (WebCrypto has no streaming SHA-256), so
 * uploads from the console stop here; larger files go with `ninjait cp`, which streams.
 */
const MAX_CONSOLE_UPLOAD_BYTES = 1024 ** 3;

/** A folder is saved as one .zip built in memory from its files: the same bound as an upload. */
const MAX_CONSOLE_FOLDER_BYTES = 1024 ** 3;

const isWindows = (osType: string | null) => (osType ?? '').toLowerCase().includes('windows');
const rootOf = (osType: string | null) => (isWindows(osType) ? 'C:\\' : '/');
const sepOf = (osType: string | null) => (isWindows(osType) ? '\\' : '/');
const childOf = (dir: string, name: string, sep: string) => (dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`);
function parentOf(dir: string, sep: string): string {
  const trimmed = dir.endsWith(sep) && dir.length > 1 ? dir.slice(0, -1) : dir;
  const at = trimmed.lastIndexOf(sep);
  if (at < 0) return dir;
  const parent = trimmed.slice(0, at + 1);
  return /^[A-Za-z]:\\$/.test(parent) || parent === '/' ? parent : parent.slice(0, -1) || sep;
}

function bytesText(n: number | null): string {
  if (n === null) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The server's streamed download (server/src/features/remote/download-route.ts), the same one `ninjait cp` reads. */
const DOWNLOAD_PATH = '/remote/files/download';
/**
 * Sent with the session cookie: the route serves a cookie only with it (DOWNLOAD_HEADER there), a
 * header other sites' pages cannot add to a request for this one.
 */
const DOWNLOAD_HEADERS = { 'x-ninjait-download': '1' };
/** The server's upload chunk route (server/src/features/remote/upload-route.ts), the same one `ninjait cp` sends to. */
const UPLOAD_PATH = '/remote/files/upload';
/** Sent with the session cookie, as DOWNLOAD_HEADERS is: the route takes a cookie only with it (UPLOAD_HEADER there). */
const UPLOAD_HEADERS = { 'x-ninjait-upload': '1', 'content-type': 'application/octet-stream' };

/** A refusal shaped like a tRPC client error (`data.code`), so `withResume` tells it from a dropped connection. */
class Refused extends Error {
  constructor(message: string, readonly data: { code: string | undefined }) {
    super(message);
  }
}

/**
 * One upload chunk's bytes as the request body: the file's slice as it is, no base64 and no JSON
 * (the browser reads the slice from disk as it sends it). Answered with where the device's
 * partial file ends; a refusal keeps its code, a fetch that failed (a dropped connection) throws
 * as fetch does.
 */
async function sendChunk(q: { deviceId: string; transferId: string; path: string; size: number }, offset: number, body: Blob, signal: AbortSignal): Promise<{ offset: number }> {
  const query = new URLSearchParams({ device: q.deviceId, transferId: q.transferId, path: q.path, offset: String(offset), size: String(q.size) });
  const res = await trackedFetch(`${location.origin}${UPLOAD_PATH}?${query}`, { method: 'POST', headers: UPLOAD_HEADERS, body, credentials: 'same-origin', cache: 'no-store', signal });
  const answer = await res.json().catch(() => null) as { offset?: unknown; error?: { code?: unknown; message?: unknown } } | null;
  if (res.ok && typeof answer?.offset === 'number') return { offset: answer.offset };
  const code = typeof answer?.error?.code === 'string' ? answer.error.code : RETRY_STATUSES.has(res.status) ? 'SERVICE_UNAVAILABLE' : 'BAD_REQUEST';
  throw new Refused(typeof answer?.error?.message === 'string' ? answer.error.message : `The server answered ${res.status}`, { code });
}

/** Tries the download makes without a byte more before it gives up; a try that brought some starts the count again. */
const DOWNLOAD_TRIES = 4;
/** Progress is drawn at most this often (the body arrives in pieces of a few dozen KiB). */
const PROGRESS_MS = 100;
/** Answers worth asking again: a server restarting or a device reconnecting behind it. */
const RETRY_STATUSES = new Set([502, 503, 504]);

class Retryable extends Error {}

/** Waits, unless the transfer is cancelled meanwhile. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}

/** The refusal's words as the server gives them (`{ error: { message } }`), else the status. */
async function refusalOf(res: Response): Promise<string> {
  const body = await res.json().catch(() => null) as { error?: { message?: unknown } } | null;
  return typeof body?.error?.message === 'string' ? body.error.message : `The server answered ${res.status}`;
}

/**
 * Bytes [from, size) of the device's file, as the body arrives: each piece is kept and counted.
 * A body cut short (a dropped connection, a server restarting) is asked for again from the bytes
 * held so far, a few times, never from the start; cancelling aborts the request in flight.
 */
async function streamDownload(q: { deviceId: string; path: string; size: number }, signal: AbortSignal, progress: (n: number) => void): Promise<Uint8Array<ArrayBuffer>[]> {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let received = 0;
  let shown = 0;
  let fruitless = 0;
  for (;;) {
    const before = received;
    try {
      const query = new URLSearchParams({ device: q.deviceId, path: q.path, offset: String(received), size: String(q.size) });
      const res = await trackedFetch(`${location.origin}${DOWNLOAD_PATH}?${query}`, { headers: DOWNLOAD_HEADERS, credentials: 'same-origin', cache: 'no-store', signal });
      if (RETRY_STATUSES.has(res.status)) throw new Retryable(await refusalOf(res));
      if (!res.ok || !res.body) throw new Error(await refusalOf(res));
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (received + value.length > q.size) throw new Error(`The device sent more than the ${q.size} bytes it announced; try again.`);
        parts.push(value);
        received += value.length;
        if (Date.now() - shown >= PROGRESS_MS) {
          shown = Date.now();
          progress(received);
        }
      }
      if (received === q.size) return parts;
      throw new Retryable(`The download stopped at ${received} of ${q.size} bytes`);
    } catch (e) {
      if (signal.aborted) throw e;
      // A refusal (no such device, no permission) stays one; a fetch that failed or a body cut short is asked again.
      if (!(e instanceof Retryable || e instanceof TypeError)) throw e;
      fruitless = received > before ? 1 : fruitless + 1;
      if (fruitless >= DOWNLOAD_TRIES) throw new Error(`The download broke off at ${bytesText(received)} of ${bytesText(q.size)} and did not resume: ${(e as Error).message}`);
      progress(received);
      await pause(500 * fruitless, signal);
    }
  }
}

async function sha256Hex(data: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await data.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Hands the bytes to the browser as a download named `name`. */
function saveBlob(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

interface Transfer { label: string; done: number; total: number; cancel: AbortController }

/**
 * Files on the device: browse its folders, download a file (streamed over HTTP with a progress
 * bar, resumed where a dropped connection left it, checked against the device's SHA-256, then
 * saved by the browser) and upload one into the folder shown in chunks, each sent as bytes (progress, cancel). The same
 * procedures, route, limits and audit as `ninjait cp`.
 */
export function DeviceFiles({ deviceId, osType, canTransfer }: { deviceId: string; osType: string | null; canTransfer: boolean }) {
  const sep = sepOf(osType);
  const [dir, setDir] = useState(rootOf(osType));
  const [typed, setTyped] = useState(dir);
  const [transfer, setTransfer] = useState<Transfer | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const folderPicker = useRef<HTMLInputElement | null>(null);
  const listing = useQuery(trpc.remote.files.list.queryOptions({ deviceId, path: dir }, { retry: false }));

  const go = (path: string) => {
    setDir(path);
    setTyped(path);
  };

  async function run(label: string, total: number, work: (t: Transfer, progress: (n: number) => void) => Promise<string>) {
    const t: Transfer = { label, done: 0, total, cancel: new AbortController() };
    setTransfer(t);
    setError(null);
    setDone(null);
    try {
      setDone(await work(t, (n) => setTransfer({ ...t, done: n })));
    } catch (e) {
      setError(t.cancel.signal.aborted ? new Error(`${label}: cancelled`) : e);
    } finally {
      setTransfer(null);
    }
  }

  const download = (name: string, size: number) => run(`Downloading ${name}`, size, async (t, progress) => {
    // Begun as a call (audited, with the SHA-256 to check against), then read as one streamed body.
    const begun = await api().remote.files.downloadBegin.mutate({ deviceId, path: childOf(dir, name, sep) });
    const parts = await streamDownload({ deviceId, path: begun.path, size: begun.size }, t.cancel.signal, progress);
    progress(begun.size);
    const blob = new Blob(parts);
    const sha256 = await sha256Hex(blob);
    if (sha256 !== begun.sha256) throw new Error(`The download does not match the device's file (SHA-256 ${begun.sha256}, received ${sha256}); did it change meanwhile? Try again.`);
    saveBlob(blob, name);
    return `Downloaded ${name} (${bytesText(begun.size)}, SHA-256 ${begun.sha256}).`;
  });

  /**
   * A folder as one .zip: its tree is listed first (bounded like `ninjait cp -r`: depth, entries,
   * 1 GiB, and only plain names from the device), then each file is downloaded, audited and
   * checked against its SHA-256 as a single download is, and stored in the archive. Links are
   * not followed.
   */
  const downloadFolder = (name: string) => run(`Downloading ${name} as a .zip`, 0, async (t, progress) => {
    const files: { name: string; path: string }[] = [];
    const entries: ZipEntry[] = [];
    const skipped: string[] = [];
    let total = 0;
    const count = folderBudget();
    const walk = async (path: string, inZip: string, depth: number) => {
      count(depth, path);
      const listing = await api().remote.files.list.query({ deviceId, path });
      if (listing.omitted > 0) throw new Error(`${listing.path} holds more than ${MAX_LIST_ENTRIES} entries: download its subfolders one by one, or use "ninjait cp -r"`);
      entries.push({ name: `${inZip}/`, parts: [], modified: new Date() });
      for (const entry of listing.entries) {
        if (!isSafeEntryName(entry.name)) throw new Error(`The device listed an entry named ${JSON.stringify(entry.name)} in ${listing.path}; it is not put in a .zip`);
        if (entry.type === 'dir') {
          await walk(childOf(listing.path, entry.name, sep), `${inZip}/${entry.name}`, depth + 1);
        } else if (entry.type === 'file') {
          count(depth + 1, entry.name);
          total += entry.size ?? 0;
          if (total > MAX_CONSOLE_FOLDER_BYTES) throw new Error(`${name} holds more than ${bytesText(MAX_CONSOLE_FOLDER_BYTES)}; the console downloads folders up to that. Use "ninjait cp -r" for larger ones.`);
          files.push({ name: `${inZip}/${entry.name}`, path: childOf(listing.path, entry.name, sep) });
        } else {
          skipped.push(`${inZip}/${entry.name}`);
        }
      }
      if (entries.length + files.length > MAX_ZIP_ENTRIES) throw new Error(`${name} holds more than ${MAX_ZIP_ENTRIES} entries; use "ninjait cp -r"`);
    };
    await walk(childOf(dir, name, sep), name, 0);
    t.total = total;
    let done = 0;
    progress(done);
    for (const file of files) {
      t.cancel.signal.throwIfAborted();
      const begun = await api().remote.files.downloadBegin.mutate({ deviceId, path: file.path });
      const parts = begun.size === 0 ? [] : await streamDownload({ deviceId, path: begun.path, size: begun.size }, t.cancel.signal, (n) => progress(done + n));
      const sha256 = await sha256Hex(new Blob(parts));
      if (sha256 !== begun.sha256) throw new Error(`${file.name} does not match the device's file (SHA-256 ${begun.sha256}, received ${sha256}); did it change meanwhile? Try again.`);
      entries.push({ name: file.name, parts, modified: new Date(begun.mtimeMs) });
      done += begun.size;
      progress(done);
    }
    saveBlob(zipStore(entries), `${name}.zip`);
    const left = skipped.length > 0 ? ` Not followed (links and special files): ${skipped.join(', ')}.` : '';
    return `Downloaded ${name} as ${name}.zip (${files.length} files, ${bytesText(done)}).${left}`;
  });

  /**
   * One file to `path` on the device: hashed here, sent in chunks with a window, resumed where
   * the device's partial file ends after a dropped connection (as `ninjait cp` does), kept by the
   * device only when the SHA-256 matches. Only a refusal or a cancel ends it, and then nothing
   * half-written stays on the device. Answers the file's SHA-256.
   */
  async function sendFile(t: Transfer, file: File, path: string, progress: (n: number) => void): Promise<string> {
    if (file.size > MAX_CONSOLE_UPLOAD_BYTES) throw new Error(`${file.name} is ${bytesText(file.size)}; the console uploads files up to ${bytesText(MAX_CONSOLE_UPLOAD_BYTES)}. Use "ninjait cp" for larger ones.`);
    const files = api().remote.files;
    const transferId = crypto.randomUUID();
    const sha256 = await sha256Hex(file);
    const chunk = (at: number, length: number, givenUp: AbortSignal) =>
      sendChunk({ deviceId, transferId, path, size: file.size }, at, file.slice(at, at + length), AbortSignal.any([t.cancel.signal, givenUp]));
    const resume = { signal: t.cancel.signal };
    try {
      await withResume(resume, async () => {
        const { offset } = await files.uploadBegin.mutate({ deviceId, transferId, path, size: file.size, overwrite: false });
        progress(offset);
        return offset;
      }, (from) => pumpChunks({
        from, size: file.size, chunkBytes: FILE_CHUNK_BYTES, window: TRANSFER_WINDOW, signal: t.cancel.signal,
        send: chunk,
        receive: (ack) => progress(ack.offset),
      }));
      await withRetries(resume, () => files.uploadFinish.mutate({ deviceId, transferId, path, size: file.size, sha256, overwrite: false }));
    } catch (e) {
      await files.uploadAbort.mutate({ deviceId, transferId, path }).catch(() => undefined);
      throw e;
    }
    return sha256;
  }

  const upload = (file: File) => run(`Uploading ${file.name}`, file.size, async (t, progress) => {
    const path = childOf(dir, file.name, sep);
    const sha256 = await sendFile(t, file, path, progress);
    void listing.refetch();
    return `Uploaded ${file.name} to ${path} (${bytesText(file.size)}, SHA-256 ${sha256}).`;
  });

  /**
   * A folder the person picked, into the folder shown: its folders are made one level at a time
   * (`remote.files.mkdir`, audited), then each file is sent as a single upload is. The browser
   * lists files only, so an empty folder inside it is not made.
   */
  const uploadFolder = (picked: readonly File[]) => {
    const entries = picked.map((file) => ({ file, parts: (file.webkitRelativePath || file.name).split('/') }));
    const top = entries[0]?.parts[0] ?? 'folder';
    const total = picked.reduce((sum, file) => sum + file.size, 0);
    return run(`Uploading ${top}`, total, async (t, progress) => {
      if (entries.length > MAX_FOLDER_ENTRIES) throw new Error(`${top} holds more than ${MAX_FOLDER_ENTRIES} files; use "ninjait cp -r"`);
      const bad = entries.find(({ parts }) => !parts.every(isSafeEntryName));
      if (bad) throw new Error(`${bad.file.webkitRelativePath} is not a name the device can be given`);
      const made = new Set<string>();
      const folderOf = async (parts: readonly string[]): Promise<string> => {
        let at = dir;
        for (const part of parts) {
          at = childOf(at, part, sep);
          if (made.has(at)) continue;
          await api().remote.files.mkdir.mutate({ deviceId, path: at });
          made.add(at);
        }
        return at;
      };
      let done = 0;
      entries.sort((a, b) => a.parts.join('/').localeCompare(b.parts.join('/')));
      for (const { file, parts } of entries) {
        t.cancel.signal.throwIfAborted();
        const folder = await folderOf(parts.slice(0, -1));
        await sendFile(t, file, childOf(folder, parts.at(-1)!, sep), (n) => progress(done + n));
        done += file.size;
      }
      void listing.refetch();
      return `Uploaded ${top} to ${childOf(dir, top, sep)} (${entries.length} files, ${bytesText(total)}).`;
    });
  };

  return (
    <Card title="Files on this device">
      <form className="row" onSubmit={(e) => { e.preventDefault(); go(typed.trim() || rootOf(osType)); }}>
        <button type="button" onClick={() => go(parentOf(dir, sep))} disabled={dir === rootOf(osType)}>Up one folder</button>
        <input aria-label="Folder" className="mono" value={typed} onChange={(e) => setTyped(e.target.value)} />
        <button type="submit">Open folder</button>
        {canTransfer ? (
          <>
            <button type="button" onClick={() => picker.current?.click()} disabled={transfer !== null}>Upload a file here…</button>
            <input ref={picker} type="file" hidden aria-label="File to upload" onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) void upload(file);
            }} />
            <button type="button" onClick={() => folderPicker.current?.click()} disabled={transfer !== null}>Upload a folder here…</button>
            <input ref={(el) => {
              folderPicker.current = el;
              // Not a React attribute: the browser's folder picker, whose files carry their paths inside it.
              if (el) el.webkitdirectory = true;
            }} type="file" hidden aria-label="Folder to upload" onChange={(e) => {
              const picked = [...(e.target.files ?? [])];
              e.target.value = '';
              if (picked.length > 0) void uploadFolder(picked);
            }} />
          </>
        ) : null}
      </form>
      {transfer ? (
        <div className="transfer" data-testid="transfer">
          <label>{transfer.label}: {bytesText(transfer.done)} of {bytesText(transfer.total)}
            <progress max={Math.max(1, transfer.total)} value={transfer.done} />
          </label>
          <button type="button" onClick={() => transfer.cancel.abort()}>Cancel</button>
        </div>
      ) : null}
      {done ? <p className="ok small" role="status">{done}</p> : null}
      {error ? <ErrorNote error={error} /> : null}
      <QueryView query={listing} empty={(data) => (data.entries.length === 0 ? <Empty title="This folder is empty" /> : null)}>
        {(data) => (
          <>
            {/* Long names and dates scroll inside the card, not the page, on a phone. */}
            <div className="table-wrap">
              <table className="table compact" data-testid="files-table">
                <caption className="sr-only">Contents of {data.path}</caption>
                <thead><tr><th>Name</th><th>Size</th><th>Modified</th><th /></tr></thead>
                <tbody>
                  {data.entries.map((entry) => (
                    <tr key={entry.name}>
                      <td className="mono">
                        {entry.type === 'dir' || entry.type === 'link'
                          ? <button type="button" className="link" onClick={() => go(childOf(data.path, entry.name, sep))}>{entry.name}{sep}</button>
                          : entry.name}
                      </td>
                      <td>{bytesText(entry.size)}</td>
                      <td>{entry.mtimeMs === null ? '' : dateTime(new Date(entry.mtimeMs).toISOString())}</td>
                      <td>{canTransfer && entry.type === 'file' ? (
                        <button type="button" disabled={transfer !== null} onClick={() => void download(entry.name, entry.size ?? 0)}>Download</button>
                      ) : canTransfer && entry.type === 'dir' ? (
                        <button type="button" disabled={transfer !== null} onClick={() => void downloadFolder(entry.name)}>Download as .zip</button>
                      ) : null}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {data.omitted > 0 ? <p className="muted small">{data.omitted} more entries are not shown.</p> : null}
          </>
        )}
      </QueryView>
    </Card>
  );
}
