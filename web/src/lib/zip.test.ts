import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32, zipStore } from './zip.ts';

// Debian's Info-ZIP (the web package reaches no test helper outside itself).
const unzip = ['/usr/bin/unzip', '/usr/local/bin/unzip'].find((path) => existsSync(path)) ?? null;
if (!unzip) console.warn('unzip is missing: the console\'s .zip is not checked with Info-ZIP here (apt-get install -y unzip; the test runner installs it as root)');

const bytes = (text: string) => new Uint8Array(Buffer.from(text));

describe('the console\'s stored .zip', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-zip-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('computes CRC-32 as zip does, across part boundaries', () => {
    expect(crc32([bytes('123456789')])).toBe(0xcbf43926);
    expect(crc32([bytes('1234'), bytes(''), bytes('56789')])).toBe(0xcbf43926);
    expect(crc32([])).toBe(0);
  });

  it.skipIf(!unzip)('is read back by Info-ZIP unzip, every byte and name as written', async () => {
    const big = new Uint8Array(randomBytes(3 * 1024 * 1024 + 5));
    const when = new Date(2026, 11, 4, 9, 30, 12);
    const blob = zipStore([
      { name: 'logs/', parts: [], modified: when },
      { name: 'logs/ünïcode näme.txt', parts: [bytes('hello '), bytes('world\n')], modified: when },
      { name: 'logs/empty.txt', parts: [], modified: when },
      { name: 'logs/deep/', parts: [], modified: when },
      { name: 'logs/deep/big.bin', parts: [big.subarray(0, 1_000_000), big.subarray(1_000_000)], modified: when },
    ]);
    const archive = join(dir, 'folder.zip');
    await writeFile(archive, new Uint8Array(await blob.arrayBuffer()));
    // -t checks every entry's CRC against its data.
    expect(execFileSync(unzip!, ['-t', archive], { encoding: 'utf8' })).toMatch(/No errors detected/);
    const out = join(dir, 'out');
    execFileSync(unzip!, ['-q', archive, '-d', out]);
    expect(await readFile(join(out, 'logs', 'ünïcode näme.txt'), 'utf8')).toBe('hello world\n');
    expect((await stat(join(out, 'logs', 'empty.txt'))).size).toBe(0);
    const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
    expect(sha(await readFile(join(out, 'logs', 'deep', 'big.bin')))).toBe(sha(big));
    const listing = execFileSync(unzip!, ['-Z', '-T', archive], { encoding: 'utf8' });
    expect(listing).toContain('20261204.093012');
  });
});
