import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '@ninjait/server/testing';
import { SERVER_CLI, runCli, type Proc } from '../support/processes.ts';
import { startHarnessAgent } from '../support/harness-agent.ts';

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * `ninjait cp` both ways as an administrator runs it, on this machine's real agent process: the
 * upload's chunks go as HTTP bodies and on to the agent as binary frames, the download streams
 * back; both ends have the same SHA-256, the upload is audited with it, and a copy onto an
 * existing file is refused unless forced.
 */
describe('ninjait cp to and from a real agent', () => {
  let h: Harness;
  let agent: Proc | undefined;
  let dir: string;
  let deviceId: string;
  const cp = (...args: string[]) => runCli(SERVER_CLI, ['cp', ...args, '--json', '--server', h.server.url, '--data-dir', h.dataDir]);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-cp-'));
    h = await startHarness({ relational: 'pglite', cache: 'memory' });
    ({ deviceId, agent } = await startHarnessAgent(h, 'Cp', join(dir, 'agent')));
  }, 180_000);

  afterAll(async () => {
    await agent?.kill('SIGKILL');
    await h?.stop();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('uploads a file and downloads it back with equal SHA-256, audited, and will not overwrite unasked', async () => {
    const bytes = randomBytes(20 * 1024 * 1024 + 4_321);
    const source = join(dir, 'source.bin');
    await writeFile(source, bytes);
    const onDevice = join(dir, 'on-the-device.bin');
    const up = JSON.parse(await cp(source, `${deviceId}:${onDevice}`)) as { path: string; size: number; sha256: string };
    expect(up).toEqual({ path: onDevice, size: bytes.length, sha256: sha(bytes) });
    expect(sha(await readFile(onDevice))).toBe(sha(bytes));

    const back = join(dir, 'back.bin');
    const down = JSON.parse(await cp(`${deviceId}:${onDevice}`, back)) as { sha256: string };
    expect(down.sha256).toBe(sha(bytes));
    expect(sha(await readFile(back))).toBe(sha(bytes));

    const audit = await h.server.services.db.query<{ doc: { details: { sha256: string; requestedBy: string; path: string } } }>(
      `SELECT doc FROM audit_log WHERE action = 'file.upload'`);
    expect(audit.rows.map((r) => r.doc.details)).toContainEqual(expect.objectContaining({ sha256: sha(bytes), requestedBy: 'local-admin', path: onDevice }));

    // Copied again onto the file it made: refused in words, unless forced.
    await expect(cp(source, `${deviceId}:${onDevice}`)).rejects.toThrow(/exists; allow overwriting/);
    expect((JSON.parse(await cp(source, `${deviceId}:${onDevice}`, '--force')) as { sha256: string }).sha256).toBe(sha(bytes));
  }, 120_000);
});
