import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReadHandles } from './read-handles.ts';

describe('files kept open between download chunks', () => {
  let dir: string;
  beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'ninjait-handles-'))));
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  /** The file's first bytes, read at a position as chunks are (a shared handle has no position of its own to rely on). */
  const readAll = async (handles: ReturnType<typeof createReadHandles>, path: string, resolved: string[]) =>
    handles.withFile(path, async () => (resolved.push(path), path), async (h) => {
      const { buffer, bytesRead } = await h.read(Buffer.alloc(64), 0, 64, 0);
      return buffer.subarray(0, bytesRead).toString();
    });

  it('resolves and opens a file once for its chunks, and afresh after forget (a file replaced since is not read from the old one)', async () => {
    const path = join(dir, 'a.txt');
    await writeFile(path, 'old');
    const handles = createReadHandles({ idleMs: 60_000 });
    const resolved: string[] = [];
    expect(await Promise.all([readAll(handles, path, resolved), readAll(handles, path, resolved)])).toEqual(['old', 'old']);
    await writeFile(join(dir, 'b.txt'), 'new');
    await rename(join(dir, 'b.txt'), path);
    // Still the file opened first: what a download that began before the swap reads.
    expect(await readAll(handles, path, [])).toBe('old');
    expect(resolved).toHaveLength(1);
    handles.forget(path);
    expect(await readAll(handles, path, resolved)).toBe('new');
    expect(resolved).toHaveLength(2);
    handles.forget(path);
  });

  it('closes a file left idle, does not remember one that could not be opened, and opens its own handle past the limit', async () => {
    const path = join(dir, 'c.txt');
    await writeFile(path, 'c');
    const handles = createReadHandles({ idleMs: 20, maxOpen: 1 });
    const resolved: string[] = [];
    await readAll(handles, path, resolved);
    await new Promise((r) => setTimeout(r, 60));
    await readAll(handles, path, resolved);
    expect(resolved).toHaveLength(2);

    const missing = join(dir, 'missing.txt');
    await expect(readAll(handles, missing, resolved)).rejects.toMatchObject({ code: 'ENOENT' });
    await writeFile(missing, 'now here');
    await new Promise((r) => setTimeout(r, 60));
    expect(await readAll(handles, missing, resolved)).toBe('now here');

    // One kept open at most: a second file while the first is held reads through its own handle.
    const other = join(dir, 'd.txt');
    await writeFile(other, 'd');
    const held = handles.withFile(missing, async () => missing, async () => readAll(handles, other, resolved));
    expect(await held).toBe('d');
  });
});
