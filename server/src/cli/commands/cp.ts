import type { RemoteOp, RemoteOpKind, RemoteResult } from '@ninjait/shared';
import { parse, UsageError, type Command } from '../args.ts';
import { localAdminClient, localAdminCredentials } from '../client.ts';
import { localAdminByteSource } from '../download-stream.ts';
import { stat } from 'node:fs/promises';
import { downloadFolder, uploadFolder, type FolderSummary } from '../folder-transfer.ts';
import { localAdminChunkSink } from '../upload-chunks.ts';
import { downloadFile, uploadFile, type RemoteCall } from '../transfer.ts';

const usage = `
Usage: ninjait cp [options] <source> <destination>

Copies a file, or with -r a folder, to or from a device; one side is DEVICE:PATH (a device id or
name, and a full path on the device), the other local:
  ninjait cp ./report.pdf laptop-7:/tmp/report.pdf
  ninjait cp laptop-7:/var/log/syslog ./syslog
  ninjait cp -r ./tools laptop-7:/opt/tools
  ninjait cp -r laptop-7:/var/log/nginx ./nginx-logs

Files move in 1 MiB chunks, eight in flight at a time, as bytes (an upload sends each as an HTTP
body, a download streams them as one; between server and device they go as binary WebSocket frames); an interrupted copy is resumed
when run again, and the file is kept only when its SHA-256 matches on both ends. Progress goes
to stderr. Audited as "local-admin" with the file's SHA-256. A folder is copied file by file
(each resumed and checked the same way) into the named folder, created if missing; links and
special files are not followed but listed as skipped.

Options:
  -r, --recursive    copy a folder and everything in it
  --org ORG          organization (name or id) when several devices share the name
  --force            replace an existing file on the device
  --server URL       server to talk to (default http://127.0.0.1:$PORT, or $NINJAIT_SERVER)
  --data-dir DIR     the server's DATA_DIR (default $DATA_DIR or ./data)
  --json             print the result (path, size, sha256) as JSON`;

/** `DEVICE:PATH`, where PATH is absolute (`/…`, `C:\\…`, `\\\\server\\…`); a local `C:\\x` is not a device. */
export function parseRemote(arg: string): { device: string; path: string } | null {
  const match = /^([^:/\\]{2,}):(.+)$/.exec(arg);
  if (!match) return null;
  return { device: match[1]!, path: match[2]! };
}

function progress(label: string) {
  let last = -1;
  return (done: number, total: number) => {
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    if (percent === last) return;
    last = percent;
    process.stderr.write(`\r${label} ${percent}% (${(done / 1048576).toFixed(1)} of ${(total / 1048576).toFixed(1)} MiB)${done === total ? '\n' : ''}`);
  };
}

export const cpCommand: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      org: { type: 'string' }, force: { type: 'boolean' }, recursive: { type: 'boolean', short: 'r' }, server: { type: 'string' }, 'data-dir': { type: 'string' }, json: { type: 'boolean' },
    }, usage, true);
    if (positionals.length !== 2) throw new UsageError(`A source and a destination are needed.\n${usage}`);
    const [source, destination] = positionals as [string, string];
    const from = parseRemote(source);
    const to = parseRemote(destination);
    if ((from && to) || (!from && !to)) throw new UsageError(`Exactly one side must be DEVICE:PATH.\n${usage}`);
    const remote = (from ?? to)!;
    const api = await localAdminClient(values);
    const credentials = await localAdminCredentials(values);
    const stream = from ? localAdminByteSource(credentials, { device: from.device, org: values.org }) : undefined;
    const chunks = to ? localAdminChunkSink(credentials, { device: to.device, org: values.org }) : undefined;
    const call: RemoteCall = (async <K extends RemoteOpKind>(op: Extract<RemoteOp, { kind: K }>) =>
      (await api.remote.local.mutate({ device: remote.device, org: values.org, op })).result as RemoteResult<K>) as RemoteCall;
    try {
      if (values.recursive) {
        const onFile = (name: string) => progress(`  ${name}`);
        const summary = to
          ? await uploadFolder(call, source, to.path, { overwrite: values.force ?? false, chunks, onFile })
          : await downloadFolder(call, from!.path, destination, { stream, onFile });
        process.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : folderLine(summary));
        return 0;
      }
      if (to && (await stat(source).catch(() => null))?.isDirectory()) throw new UsageError(`${source} is a folder: copy it with -r`);
      const result = to
        ? await uploadFile(call, source, to.path, { overwrite: values.force ?? false, chunks, onProgress: progress(`${source} → ${destination}`) })
        : await downloadFile(call, from!.path, destination, { stream, onProgress: progress(`${source} → ${destination}`) });
      process.stdout.write(values.json ? `${JSON.stringify(result)}\n` : `${result.path}  ${result.size} bytes  sha256 ${result.sha256}\n`);
      return 0;
    } finally {
      chunks?.close();
    }
  },
};

function folderLine(summary: FolderSummary): string {
  const skipped = summary.skipped.length > 0 ? `; skipped (links and special files): ${summary.skipped.join(', ')}` : '';
  return `${summary.path}  ${summary.folders} folders, ${summary.files} files, ${summary.bytes} bytes${skipped}\n`;
}
