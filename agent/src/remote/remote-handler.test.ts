import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeChunkFrame } from '@ninjait/shared';
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
