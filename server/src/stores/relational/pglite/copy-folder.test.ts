import { lstatSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyFolderInto } from './copy-folder.ts';

describe.skipIf(process.platform === 'win32')('copying the seed cluster into an empty data folder', () => {
  let dir: string;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function makeSeed(): Promise<{ seed: string; data: string }> {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-seed-copy-'));
    const seed = join(dir, 'seed');
    for (const [path, body] of [['PG_VERSION', '17\n'], ['base/1/1255', 'pages'], ['global/pg_control', 'control'], ['pg_wal/archive_status/.keep', '']] as const) {
      await mkdir(dirname(join(seed, path)), { recursive: true, mode: 0o755 });
      await writeFile(join(seed, path), body, { mode: 0o644 });
    }
    const data = join(dir, 'data', 'pglite');
    await mkdir(data, { recursive: true, mode: 0o700 });
    return { seed, data };
  }

  it('copies every file and folder, owner-only whatever modes the seed has', async () => {
    const { seed, data } = await makeSeed();
    await chmod(join(seed, 'base'), 0o777);
    await copyFolderInto(seed, data);
    expect(await readFile(join(data, 'base/1/1255'), 'utf8')).toBe('pages');
    expect(await readFile(join(data, 'PG_VERSION'), 'utf8')).toBe('17\n');
    const entries = readdirSync(data, { recursive: true, encoding: 'utf8' }).sort();
    expect(entries).toEqual(readdirSync(seed, { recursive: true, encoding: 'utf8' }).sort());
    const open = [data, ...entries.map((entry) => join(data, entry))].filter((path) => (lstatSync(path).mode & 0o077) !== 0);
    expect(open).toEqual([]);
    expect(readdirSync(dirname(data))).toEqual(['pglite']);
  });

  it('leaves the data folder empty, and nothing beside it, when the copy fails', async () => {
    const { seed, data } = await makeSeed();
    // Many files beside the bad entry, so copies are still running when it fails: the clean-up
    // must not start before they end (it failed with ENOTEMPTY in place of this error).
    await mkdir(join(seed, 'base', 'many'));
    await Promise.all(Array.from({ length: 1000 }, (_, i) => writeFile(join(seed, 'base', 'many', String(i)), 'x')));
    await symlink('/etc/passwd', join(seed, 'base', 'link'));
    await expect(copyFolderInto(seed, data)).rejects.toThrow(/neither a file nor a folder/);
    expect(readdirSync(data)).toEqual([]);
    expect(readdirSync(dirname(data))).toEqual(['pglite']);
  });

  it('removes what a copy killed half-way left beside the folder', async () => {
    const { seed, data } = await makeSeed();
    await mkdir(join(`${data}.seeding`, 'base'), { recursive: true });
    await writeFile(join(`${data}.seeding`, 'stale'), 'x');
    await copyFolderInto(seed, data);
    expect(readdirSync(data).sort()).toEqual(['PG_VERSION', 'base', 'global', 'pg_wal']);
    expect(readdirSync(dirname(data))).toEqual(['pglite']);
  });
});
