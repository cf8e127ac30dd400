import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The key file an install without SECRETS_KEY keeps in DATA_DIR. */
export const SECRETS_KEY_FILE = 'secrets-key';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Version prefix of a sealed value, so the format (or key) can change later. */
const FORMAT = 'v1';

/**
 * Encrypts secrets the server must keep in a form it can read back (a client secret it sends to an
 * identity provider): AES-256-GCM, a fresh nonce each time, and `context` (the owning row's key) as
 * additional data, so a sealed value copied onto another row does not open there.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): string;
  /** Throws when the value was sealed under another key or context, or was changed. */
  open(sealed: string, context: string): string;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== KEY_BYTES) throw new Error(`A secrets key is ${KEY_BYTES} bytes, not ${key.length}`);
  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [FORMAT, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
    },
    open(sealed, context) {
      const [format, iv, tag, body] = sealed.split('.');
      if (format !== FORMAT || !iv || !tag || body === undefined) throw new Error('Not a sealed secret of a known format');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

/** SECRETS_KEY as written: 32 bytes in base64 (44 characters) or hex (64). Null when it is neither. */
export function decodeSecretsKey(text: string): Buffer | null {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return key.length === KEY_BYTES ? key : null;
  }
  return null;
}

/**
 * The key: SECRETS_KEY when set; else the one in DATA_DIR, made (owner-only) on first start.
 * `generated` says a new key was written, which the caller logs: losing that file loses the secrets.
 */
export async function loadSecretsKey(configured: string | undefined, dataDir: string): Promise<{ key: Buffer; source: 'env' | 'file'; generated: boolean }> {
  if (configured !== undefined) {
    const key = decodeSecretsKey(configured);
    if (!key) throw new Error('SECRETS_KEY must be 32 bytes in base64 or hex');
    return { key, source: 'env', generated: false };
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, SECRETS_KEY_FILE);
  const stored = await readFile(path, 'utf8').catch(() => null);
  if (stored !== null) {
    const key = decodeSecretsKey(stored);
    if (!key) throw new Error(`${path} does not hold a 32-byte key: restore it from a backup, or set SECRETS_KEY`);
    return { key, source: 'file', generated: false };
  }
  const key = randomBytes(KEY_BYTES);
  // `wx`: two processes starting on one DATA_DIR never overwrite each other's key.
  try {
    await writeFile(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return loadSecretsKey(undefined, dataDir);
    throw error;
  }
  return { key, source: 'file', generated: true };
}
