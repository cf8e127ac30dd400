import { describe, expect, it } from 'vitest';
import { checkProtocolVersion, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from './version.ts';
import { compareVersions, isNewer } from './semver.ts';
import { releaseSchema } from './release.ts';

describe('protocol version', () => {
  it('serves agents that send no version (released before it existed) as version 1', () => {
    expect(checkProtocolVersion(undefined)).toEqual({ ok: true, version: 1 });
    expect(MIN_PROTOCOL_VERSION).toBeLessThanOrEqual(1);
  });

  it('accepts the range it documents, as a number (enrollment) or a string (socket params)', () => {
    for (let version = MIN_PROTOCOL_VERSION; version <= PROTOCOL_VERSION; version++) {
      expect(checkProtocolVersion(version)).toEqual({ ok: true, version });
      expect(checkProtocolVersion(String(version))).toEqual({ ok: true, version });
    }
  });

  it('refuses a newer or malformed version with words that say which side to update', () => {
    const newer = checkProtocolVersion(PROTOCOL_VERSION + 1);
    expect(newer).toMatchObject({ ok: false, message: expect.stringMatching(/newer than the server.*update the server/) as unknown });
    expect(checkProtocolVersion(`${PROTOCOL_VERSION + 1}`).ok).toBe(false);
    for (const junk of [0, -1, 1.5, 'two', '1e3', '2 ', {}]) expect(checkProtocolVersion(junk).ok, String(junk)).toBe(false);
  });
});

describe('versions', () => {
  it('orders versions the way semver.org does', () => {
    expect(compareVersions('1.10.0', '1.9.9')).toBe(1);
    expect(compareVersions('1.2.3', '1.2.3')).toBe(0);
    expect(compareVersions('1.2.3-rc.1', '1.2.3')).toBe(-1);
    expect(compareVersions('1.2.3-rc.10', '1.2.3-rc.9')).toBe(1);
    expect(compareVersions('1.2.3-alpha', '1.2.3-1')).toBe(1);
    expect(isNewer('0.10.0', '0.9.0')).toBe(true);
  });

  it('puts what is not a version below every version, so it never wins an update', () => {
    expect(compareVersions('garbage', '0.0.1')).toBe(-1);
    expect(compareVersions('0.0.1', '01.0.0')).toBe(1);
    expect(compareVersions('x', 'y')).toBe(0);
    expect(isNewer('9999', '0.1.0')).toBe(false);
  });

  it('lets a release carry only a plain semantic version', () => {
    const release = { version: '1.2.3', platform: 'linux', arch: 'x64', kind: 'bundle', file: 'a.tgz', sha256: 'a'.repeat(64), size: 1, signature: 's' };
    expect(releaseSchema.safeParse(release).success).toBe(true);
    expect(releaseSchema.safeParse({ ...release, version: '1.2.3-rc.1' }).success).toBe(true);
    for (const version of ['1.2', '01.2.3', '1.2.3+build', 'v1.2.3']) expect(releaseSchema.safeParse({ ...release, version }).success, version).toBe(false);
  });
});
