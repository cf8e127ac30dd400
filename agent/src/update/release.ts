import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { Release, UnsignedRelease } from '@ninjait/shared';

// The schema is the protocol's (`shared`): the server lists releases with it, the agent checks what it is offered.
export { ARTIFACT_KINDS, releaseSchema, type ArtifactKind, type Release, type UnsignedRelease } from '@ninjait/shared';

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
