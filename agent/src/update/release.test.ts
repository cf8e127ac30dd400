import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadPublicKey, releaseMessage, signRelease, verifyRelease, type UnsignedRelease } from './release.ts';

const keys = () => generateKeyPairSync('ed25519');
const facts: UnsignedRelease = {
  version: '1.2.3', platform: 'linux', arch: 'x64', kind: 'bundle',
  file: 'ninjait-agent-1.2.3-linux-x64.tar.gz', sha256: 'a'.repeat(64), size: 1234,
};

describe('release signatures', () => {
  it('accepts a release signed by the installed key', () => {
    const { privateKey, publicKey } = keys();
    expect(verifyRelease(signRelease(facts, privateKey), publicKey)).toBe(true);
  });

  it('refuses a release signed by another key', () => {
    const publisher = keys();
    const attacker = keys();
    expect(verifyRelease(signRelease(facts, attacker.privateKey), publisher.publicKey)).toBe(false);
  });

  it('refuses a signed release whose facts were changed afterwards', () => {
    const { privateKey, publicKey } = keys();
    const signed = signRelease(facts, privateKey);
    expect(verifyRelease({ ...signed, version: '9.9.9' }, publicKey)).toBe(false);
    expect(verifyRelease({ ...signed, sha256: 'b'.repeat(64) }, publicKey)).toBe(false);
    expect(verifyRelease({ ...signed, size: 1235 }, publicKey)).toBe(false);
    expect(verifyRelease({ ...signed, file: 'other.tar.gz' }, publicKey)).toBe(false);
  });

  it('refuses a corrupted or malformed signature', () => {
    const { privateKey, publicKey } = keys();
    const signed = signRelease(facts, privateKey);
    const bytes = Buffer.from(signed.signature, 'base64');
    bytes[0] = bytes[0]! ^ 0xff;
    expect(verifyRelease({ ...signed, signature: bytes.toString('base64') }, publicKey)).toBe(false);
    expect(verifyRelease({ ...signed, signature: 'AAAA' }, publicKey)).toBe(false);
    expect(verifyRelease({ ...signed, signature: '' }, publicKey)).toBe(false);
  });

  it('loads PEM public keys and refuses keys that are not Ed25519', () => {
    const { publicKey } = keys();
    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    expect(loadPublicKey(pem).asymmetricKeyType).toBe('ed25519');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' });
    expect(() => loadPublicKey(rsa)).toThrow(/Ed25519/);
  });

  it('signs a domain-separated message that names every fact', () => {
    const text = releaseMessage(facts).toString();
    expect(text.startsWith('ninjait-agent-release/v1\n')).toBe(true);
    for (const value of Object.values(facts)) expect(text).toContain(String(value));
  });
});
