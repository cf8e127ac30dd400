import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_FOLDER_DEPTH, isSafeEntryName, type RemoteOp, type RemoteOpKind, type RemoteResult } from '@ninjait/shared';
import { downloadFolder, remoteSeparator } from './folder-transfer.ts';
import type { RemoteCall } from './transfer.ts';

/**
 * A stolen agent answering listings of its own making: the names and shapes a real agent would
 * never send, which the CLI must refuse before writing anything of them.
 */
function hostileDevice(list: (path: string) => RemoteResult<'fs.list'>): RemoteCall {
  return (async <K extends RemoteOpKind>(op: Extract<RemoteOp, { kind: K }>) => {
    const asked = op as RemoteOp;
    if (asked.kind === 'fs.list') return list(asked.path) as RemoteResult<K>;
    throw new Error(`the test device was asked ${asked.kind}`);
  }) as RemoteCall;
}
const dirEntry = (name: string) => ({ name, type: 'dir' as const, size: null, mtimeMs: null, mode: null });
const fileEntry = (name: string) => ({ name, type: 'file' as const, size: 1, mtimeMs: null, mode: null });

describe('folder copies from a device', () => {
  let local: string;
  beforeEach(async () => {
    local = await mkdtemp(join(tmpdir(), 'ninjait-folder-'));
  });
  afterEach(async () => {
    await rm(local, { recursive: true, force: true });
  });

  it('accepts one plain path segment as a name, and nothing that leads elsewhere', () => {
    for (const name of ['report.pdf', '.hidden', 'a b', 'ünïcode', '..x', 'x..']) expect(isSafeEntryName(name)).toBe(true);
    for (const name of ['', '.', '..', '../x', 'a/b', 'a\\b', 'C:evil', 'c:\\x', 'nul\0byte']) expect(isSafeEntryName(name)).toBe(false);
    expect(remoteSeparator('C:\\Users')).toBe('\\');
    expect(remoteSeparator('\\\\server\\share')).toBe('\\');
    expect(remoteSeparator('/var/log')).toBe('/');
  });

  it.each(['..', '../escape', 'a/../../escape', '/etc/passwd', 'C:\\Windows'])('refuses a listing naming %j and writes nothing of it', async (name) => {
    const device = hostileDevice((path) => ({ path, entries: [fileEntry(name)], omitted: 0 }));
    await expect(downloadFolder(device, '/srv/data', join(local, 'copy'))).rejects.toThrow(/nothing by that name is written here/);
    expect(await readdir(local)).toEqual(['copy']);
    expect(await readdir(join(local, 'copy'))).toEqual([]);
  });

  it('stops a device whose folders never end, at a bounded depth', async () => {
    const device = hostileDevice((path) => ({ path, entries: [dirEntry('deeper')], omitted: 0 }));
    await expect(downloadFolder(device, '/srv', join(local, 'copy'))).rejects.toThrow(`more than ${MAX_FOLDER_DEPTH} folders deep`);
  });

  it('refuses a folder listed only in part, rather than copy some of it silently', async () => {
    const device = hostileDevice((path) => ({ path, entries: [], omitted: 12 }));
    await expect(downloadFolder(device, '/srv', join(local, 'copy'))).rejects.toThrow(/holds more than 5000 entries/);
  });
});
