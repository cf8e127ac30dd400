import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeChunkFrame, encodeUploadFrame } from '@ninjait/shared';
import { createLogger } from '../log.ts';
import type { AgentClient, RemoteMessage } from '../exec/types.ts';
import { createRemoteHandler } from './index.ts';

describe('download chunks: a binary frame when offered, JSON otherwise', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-frames-'));
    file = join(dir, 'data.txt');
    await writeFile(file, 'hello, binary world');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  function handler(sendFrame?: (frame: Buffer) => boolean) {
    const answers: unknown[] = [];
    const client = { agent: { remoteResult: { mutate: vi.fn(async (input: unknown) => void answers.push(input)) } } } as unknown as AgentClient;
    const remote = createRemoteHandler({ client, log: createLogger('silent'), platform: 'linux', fileRoots: [], ...(sendFrame ? { sendFrame } : {}) });
    return { remote, answers };
  }
  const chunk = (answer?: 'binary'): RemoteMessage => ({ type: 'remote', requestId: randomUUID(), op: { kind: 'fs.downloadChunk', path: file, offset: 7, length: 100 }, ...(answer ? { answer } : {}) });

  it('sends the bytes read as one frame, and no JSON answer', async () => {
    const frames: Buffer[] = [];
    const { remote, answers } = handler((frame) => (frames.push(frame), true));
    const message = chunk('binary');
    await remote.handle(message);
    expect(answers).toEqual([]);
    const decoded = decodeChunkFrame(frames[0]!)!;
    expect(decoded).toMatchObject({ requestId: message.requestId, offset: 7 });
    expect(decoded.data.toString()).toBe('binary world');
  });

  it('answers in JSON when not offered a frame, or when the socket is closed under it', async () => {
    const sent: Buffer[] = [];
    const open = handler((frame) => (sent.push(frame), true));
    await open.remote.handle(chunk());
    const closed = handler(() => false);
    await closed.remote.handle(chunk('binary'));
    for (const { answers } of [open, closed]) {
      expect(answers).toEqual([expect.objectContaining({ ok: true, result: { offset: 7, data: Buffer.from('binary world').toString('base64') } })]);
    }
    expect(sent).toEqual([]);
  });
});

describe('upload chunks as binary frames from the server', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-upload-frames-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes the frame\'s bytes into the partial file and answers in JSON as for a JSON chunk; a frame that is not one gets nothing', async () => {
    const answers: { requestId: string; ok: boolean; result?: unknown; error?: { code: string } }[] = [];
    const client = { agent: { remoteResult: { mutate: vi.fn(async (input: (typeof answers)[number]) => void answers.push(input)) } } } as unknown as AgentClient;
    const remote = createRemoteHandler({ client, log: createLogger('silent'), platform: 'linux', fileRoots: [dir] });
    const path = join(dir, 'up.bin');
    const transferId = randomUUID();
    const bytes = randomBytes(5000);
    await remote.handle({ type: 'remote', requestId: randomUUID(), op: { kind: 'fs.uploadBegin', transferId, path, size: bytes.length, overwrite: false } });
    const frame = (requestId: string, offset: number, data: Buffer, at = path) => encodeUploadFrame({ requestId, transferId, path: at, offset, data: [data] });
    const first = randomUUID();
    const second = randomUUID();
    await remote.handleFrame(frame(first, 0, bytes.subarray(0, 3000)));
    await remote.handleFrame(frame(second, 3000, bytes.subarray(3000)));
    expect(answers.slice(1)).toEqual([
      { requestId: first, ok: true, result: { offset: 3000 } },
      { requestId: second, ok: true, result: { offset: 5000 } },
    ]);
    await remote.handle({ type: 'remote', requestId: randomUUID(), op: { kind: 'fs.uploadFinish', transferId, path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), overwrite: false } });
    expect((await readFile(path)).equals(bytes)).toBe(true);

    // Outside the allowed folders: refused like the JSON op, in words.
    const outside = randomUUID();
    await remote.handleFrame(frame(outside, 0, bytes, '/etc/ninjait-nope'));
    expect(answers.at(-1)).toMatchObject({ requestId: outside, ok: false, error: { code: 'FORBIDDEN' } });
    // Not an upload frame: nobody to answer.
    const before = answers.length;
    await remote.handleFrame(Buffer.from('{"not":"a frame"}'));
    expect(answers).toHaveLength(before);
  });
});
