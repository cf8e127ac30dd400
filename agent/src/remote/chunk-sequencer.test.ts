import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_AHEAD_BYTES, createChunkSequencer } from './chunk-sequencer.ts';

describe('upload chunks arriving out of order', () => {
  let dir: string;
  beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), 'ninjait-seq-'))));
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('writes them in order: a chunk ahead waits for the gap, a resent one rewrites in place', async () => {
    const partial = join(dir, 'a.part');
    await writeFile(partial, '');
    const seq = createChunkSequencer((p) => rm(p, { force: true }));
    const acks = await Promise.all([
      seq.write(partial, 8, Buffer.from('cccc')),
      seq.write(partial, 4, Buffer.from('bbbb')),
      seq.write(partial, 0, Buffer.from('aaaa')),
      seq.write(partial, 0, Buffer.from('aaaa')),
    ]);
    expect(acks.map((a) => a.offset)).toEqual([12, 8, 4, 4]);
    expect(await readFile(partial, 'utf8')).toBe('aaaabbbbcccc');
  });

  it('refuses a chunk too far ahead at once, and one whose gap never fills after the wait', async () => {
    const partial = join(dir, 'b.part');
    await writeFile(partial, 'xx');
    const seq = createChunkSequencer((p) => rm(p, { force: true }), { waitMs: 50 });
    await expect(seq.write(partial, 2 + MAX_AHEAD_BYTES + 1, Buffer.from('z'))).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(seq.write(partial, 10, Buffer.from('z'))).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('has 2') });
    expect(await readFile(partial, 'utf8')).toBe('xx');
  });

  it('answers NOT_FOUND for an upload that was not begun', async () => {
    const seq = createChunkSequencer((p) => rm(p, { force: true }));
    await expect(seq.write(join(dir, 'none.part'), 0, Buffer.from('a'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
