import { describe, expect, it } from 'vitest';
import { inventoryReportSchema, type SoftwareItem } from '@ninjait/shared';
import { buildReport, snapshotHash } from './snapshot.ts';
import { installCommand } from './install.ts';
import type { SoftwareSnapshot } from './collect.ts';

const pkg = (name: string, version: string): SoftwareItem => ({
  key: `dpkg:${name}:amd64`, name, version, arch: 'amd64', publisher: '', source: 'dpkg', installedAtMs: null,
});
const snapshot = (software: SoftwareItem[]): SoftwareSnapshot => ({ software, services: [], updates: [], rebootPending: false, lastPatchedAtMs: null });

describe('inventory reports as diffs', () => {
  it('sends everything without a base, then only what was added, changed or removed', () => {
    const first = snapshot([pkg('a', '1'), pkg('b', '1'), pkg('c', '1')]);
    const full = buildReport(null, first, 1_000);
    expect(full.baseHash).toBeNull();
    expect(full.software.upsert).toHaveLength(3);
    inventoryReportSchema.parse(full);

    const second = snapshot([pkg('c', '1'), pkg('b', '2'), pkg('d', '1')]);
    const diff = buildReport({ hash: full.hash, snapshot: first }, second, 2_000);
    expect(diff.baseHash).toBe(full.hash);
    expect(diff.software.upsert.map((item) => `${item.name}=${item.version}`)).toEqual(['b=2', 'd=1']);
    expect(diff.software.remove).toEqual(['dpkg:a:amd64']);
    expect(diff.hash).toBe(snapshotHash(second));
  });

  it('hashes content, not order', () => {
    expect(snapshotHash(snapshot([pkg('a', '1'), pkg('b', '1')]))).toBe(snapshotHash(snapshot([pkg('b', '1'), pkg('a', '1')])));
    expect(snapshotHash(snapshot([pkg('a', '1')]))).not.toBe(snapshotHash(snapshot([pkg('a', '2')])));
  });
});

describe('install commands', () => {
  const patch = (name: string) => ({ key: `apt:${name}:amd64`, name, version: '2', source: 'apt' as const });
  it('apt: an argument array, names after --, non-interactive', () => {
    const command = installCommand([patch('openssl'), patch('libssl3')]);
    expect(command?.file).toBe('apt-get');
    expect(command?.args.slice(0, 2)).toEqual(['install', '--only-upgrade']);
    expect(command?.args.slice(-3)).toEqual(['--', 'openssl', 'libssl3']);
    expect(command?.env.DEBIAN_FRONTEND).toBe('noninteractive');
  });
  it('refuses names a package manager would read as options or shell text', () => {
    expect(installCommand([patch('-oAPT::x=1')])).toBeNull();
    expect(installCommand([patch('a; rm -rf /')])).toBeNull();
  });
});
