import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createSecretBox, decodeSecretsKey, loadSecretsKey, SECRETS_KEY_FILE } from './secret-box.ts';

describe('secret box', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('opens what it sealed, only under the same key and context, and never shows the plaintext', () => {
    const box = createSecretBox(randomBytes(32));
    const sealed = box.seal('client-secret-123', 'org-1');
    expect(sealed).not.toContain('client-secret-123');
    expect(sealed).not.toBe(box.seal('client-secret-123', 'org-1'));
    expect(box.open(sealed, 'org-1')).toBe('client-secret-123');
    expect(() => box.open(sealed, 'org-2')).toThrow();
    expect(() => createSecretBox(randomBytes(32)).open(sealed, 'org-1')).toThrow();
    const [format, iv, tag, body] = sealed.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0]! ^= 1;
    expect(() => box.open([format, iv, tag, flipped.toString('base64url')].join('.'), 'org-1')).toThrow();
  });

  it('takes SECRETS_KEY in base64 or hex and refuses anything else', () => {
    const key = randomBytes(32);
    expect(decodeSecretsKey(key.toString('base64'))).toEqual(key);
    expect(decodeSecretsKey(key.toString('hex'))).toEqual(key);
    expect(decodeSecretsKey('too-short')).toBeNull();
    expect(decodeSecretsKey(randomBytes(16).toString('base64'))).toBeNull();
  });

  it('makes an owner-only key in DATA_DIR once and keeps it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'secret-box-'));
    dirs.push(dir);
    const first = await loadSecretsKey(undefined, dir);
    expect(first).toMatchObject({ source: 'file', generated: true });
    expect((await stat(join(dir, SECRETS_KEY_FILE))).mode & 0o077).toBe(0);
    const second = await loadSecretsKey(undefined, dir);
    expect(second).toMatchObject({ source: 'file', generated: false });
    expect(second.key).toEqual(first.key);
    expect((await readFile(join(dir, SECRETS_KEY_FILE), 'utf8')).trim()).toBe(first.key.toString('base64'));
    await expect(loadSecretsKey('nope', dir)).rejects.toThrow(/SECRETS_KEY/);
  });
});
