import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPrivateKey } from '@ninjait/agent/update';

/** The file names `sign.ts keygen` has always written; packages are built with the `.pub`. */
export const PRIVATE_KEY_FILE = 'update-key.pem';
export const PUBLIC_KEY_FILE = 'update-key.pub';

export interface ReleaseKey {
  privateKey: KeyObject;
  /** PEM of the public key, as installed with every package. */
  publicPem: string;
  privatePath: string;
  publicPath: string;
}

/**
 * Writes a new Ed25519 release key pair into `dir`: the private key 0600, the public one 0644
 * (both narrowed further by a stricter umask). Refuses to replace a private key unless `force`:
 * agents installed with the old one would refuse every update signed by the new one.
 */
export function generateReleaseKey(dir: string, force = false): ReleaseKey {
  const privatePath = join(dir, PRIVATE_KEY_FILE);
  if (existsSync(privatePath) && !force) throw new Error(`${privatePath} exists; pass --force to replace it (agents installed with the old key will refuse updates)`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  writeFileSync(join(dir, PUBLIC_KEY_FILE), publicPem, { mode: 0o644 });
  return { privateKey, publicPem, privatePath, publicPath: join(dir, PUBLIC_KEY_FILE) };
}

/**
 * The key pair in `dir`, made on first use. The public file is rewritten from the private key
 * when it is missing or does not match it, so packages never carry a key that signs nothing.
 */
export function loadOrCreateReleaseKey(dir: string): ReleaseKey {
  const privatePath = join(dir, PRIVATE_KEY_FILE);
  if (!existsSync(privatePath)) return generateReleaseKey(dir);
  const privateKey = loadPrivateKey(readFileSync(privatePath));
  const publicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  const publicPath = join(dir, PUBLIC_KEY_FILE);
  if (!existsSync(publicPath) || readFileSync(publicPath, 'utf8') !== publicPem) writeFileSync(publicPath, publicPem, { mode: 0o644 });
  return { privateKey, publicPem, privatePath, publicPath };
}
