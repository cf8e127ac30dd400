import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/** What kinds of artifact a release folder holds: `bundle` is what auto-update installs. */
export const ARTIFACT_KINDS = ['bundle', 'deb', 'rpm', 'pkg', 'msi'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

/** The signed facts about one artifact. The signature covers every field but itself. */
export const releaseSchema = z.object({
  version: z.string().regex(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/, 'a semantic version like 1.2.3'),
  platform: z.enum(['linux', 'darwin', 'win32']),
  arch: z.string().regex(/^[a-z0-9_]{1,16}$/),
  kind: z.enum(ARTIFACT_KINDS),
  /** A bare file name in the releases folder: no path, so it cannot point elsewhere. */
  file: z.string().regex(SAFE_NAME),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().positive(),
  /** Base64 Ed25519 signature of `releaseMessage(release)`. */
  signature: z.string().min(1).max(200),
});
export type Release = z.infer<typeof releaseSchema>;
export type UnsignedRelease = Omit<Release, 'signature'>;

/**
 * The exact bytes that are signed: a versioned, line-based text (no JSON canonicalisation
 * questions). Binding version, platform and hash together means an old signed package can
 * never be offered under a newer version number.
 */
export function releaseMessage(r: UnsignedRelease): Buffer {
  const lines = ['ninjait-agent-release/v1', `version=${r.version}`, `platform=${r.platform}`, `arch=${r.arch}`,
    `kind=${r.kind}`, `file=${r.file}`, `sha256=${r.sha256}`, `size=${r.size}`];
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/** Loads a PEM public key and refuses anything but Ed25519. */
export function loadPublicKey(pem: string | Buffer): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`update key must be Ed25519, got ${key.asymmetricKeyType}`);
  return key;
}

/** Loads a PEM (PKCS#8) private key and refuses anything but Ed25519. */
export function loadPrivateKey(pem: string | Buffer): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`signing key must be Ed25519, got ${key.asymmetricKeyType}`);
  return key;
}

/** Signs the release facts with the publisher's private key. */
export function signRelease(r: UnsignedRelease, privateKey: KeyObject): Release {
  const signature = sign(null, releaseMessage(r), privateKey).toString('base64');
  return { ...r, signature };
}

/** True only when `release` was signed by the holder of `publicKey` and nothing was changed since. */
export function verifyRelease(release: Release, publicKey: KeyObject): boolean {
  const { signature, ...facts } = release;
  const bytes = Buffer.from(signature, 'base64');
  // Ed25519 signatures are 64 bytes; anything else is malformed, not merely wrong.
  if (bytes.length !== 64) return false;
  try {
    return verify(null, releaseMessage(facts), publicKey, bytes);
  } catch {
    return false;
  }
}
