import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pendingUpdateSchema, serviceItemSchema, softwareItemSchema } from '@ninjait/shared';
import { parseAptSimulation, parseDnf, parseDpkg, parseRpm, parseSystemd, parseZypperXml } from './linux.ts';
import { parseAppx, parseWindowsRebootState, parseWindowsServices, parseWindowsSoftware, parseWindowsUpdates } from './windows.ts';
import { parseLaunchctl, parseMacApplications, parseMacInstallHistory, parseSoftwareUpdate } from './macos.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('Linux parsers on recorded outputs', () => {
  it('dpkg-query: installed packages only, with version, architecture and maintainer', () => {
    const items = parseDpkg(fixture('dpkg-query.txt'));
    expect(items.length).toBe(20);
    expect(items.find((item) => item.name === 'old-removed')).toBeUndefined();
    expect(items[0]).toMatchObject({ source: 'dpkg', name: expect.any(String), version: expect.any(String) });
    for (const item of items) softwareItemSchema.parse(item);
  });

  it('apt-get -s upgrade: every Inst line, security from the origin', () => {
    const updates = parseAptSimulation(fixture('apt-get-s-upgrade.txt'));
    expect(updates.length).toBe(16);
    const gcrypt = updates.find((update) => update.name === 'libgcrypt20');
    expect(gcrypt).toMatchObject({ currentVersion: '1.10.1-3', availableVersion: '1.10.1-3+deb12u1', classification: 'security', key: 'apt:libgcrypt20:amd64' });
    expect(updates.find((update) => update.name === 'bash')?.classification).toBe('other');
    for (const update of updates) pendingUpdateSchema.parse(update);
  });

  it('rpm -qa: epoch joined into the version, gpg-pubkey left out, install time kept', () => {
    const items = parseRpm(fixture('rpm-qa.txt'));
    expect(items.map((item) => item.name)).toEqual(['openssl', 'bash', 'kernel-core']);
    expect(items[0]).toMatchObject({ version: '1:3.0.7-27.el9', arch: 'x86_64', installedAtMs: 1712745600_000 });
    expect(items[1]!.version).toBe('5.1.8-9.el9');
  });

  it('dnf check-update with updateinfo: advisories classify packages', () => {
    const updates = parseDnf(fixture('dnf-check-update.txt'), fixture('dnf-updateinfo.txt'));
    expect(updates).toHaveLength(3);
    expect(updates[0]).toMatchObject({ name: 'openssl', availableVersion: '1:3.0.7-28.el9_4', classification: 'security', severity: 'moderate' });
    expect(updates[2]).toMatchObject({ name: 'tzdata', classification: 'bugfix' });
  });

  it('zypper list-updates XML: packages and patches with category and severity', () => {
    const updates = parseZypperXml(fixture('zypper-list-updates.xml'));
    expect(updates).toHaveLength(3);
    expect(updates[0]).toMatchObject({ name: 'openssl-3', currentVersion: '3.1.4-150600.5.3.1', availableVersion: '3.1.4-150600.5.7.1' });
    expect(updates[1]).toMatchObject({ classification: 'security', severity: 'important' });
    expect(updates[2]).toMatchObject({ classification: 'bugfix', severity: 'moderate' });
  });

  it('systemctl JSON: services with state and start mode', () => {
    const services = parseSystemd(fixture('systemctl-units.json'), fixture('systemctl-unit-files.json'));
    expect(services).toEqual([
      { key: 'systemd:cron', name: 'cron', displayName: 'Regular background program processing daemon', state: 'running', startMode: 'enabled' },
      { key: 'systemd:ssh', name: 'ssh', displayName: 'OpenBSD Secure Shell server', state: 'dead', startMode: 'disabled' },
      { key: 'systemd:broken', name: 'broken', displayName: 'Broken unit', state: 'failed', startMode: '' },
    ]);
    for (const service of services) serviceItemSchema.parse(service);
  });
});

describe('Windows parsers on recorded outputs', () => {
  it('uninstall keys of both registry views', () => {
    const items = parseWindowsSoftware(fixture('windows-uninstall.json'));
    expect(items).toHaveLength(3);
    expect(items[0]).toMatchObject({ name: '7-Zip 23.01 (x64 edition)', version: '23.01.00.0', publisher: 'Igor Pavlov', installedAtMs: Date.UTC(2024, 0, 15) });
    expect(items[2]).toMatchObject({ arch: 'x86', source: 'registry' });
    for (const item of items) softwareItemSchema.parse(item);
  });

  it('AppX: a lone object (ConvertTo-Json drops the brackets) and a numeric architecture', () => {
    expect(parseAppx(fixture('windows-appx.json'))).toEqual([expect.objectContaining({ name: 'Microsoft.WindowsCalculator', arch: 'x64', source: 'appx' })]);
    expect(parseAppx('')).toEqual([]);
  });

  it('services, Windows Update and reboot state', () => {
    expect(parseWindowsServices(fixture('windows-services.json'))[1]).toMatchObject({ name: 'Spooler', state: 'stopped', startMode: 'disabled' });
    const updates = parseWindowsUpdates(fixture('windows-updates.json'));
    expect(updates[0]).toMatchObject({ name: 'KB5036893', classification: 'security', severity: 'critical', source: 'windows-update' });
    expect(updates[1]).toMatchObject({ name: 'KB890830', classification: 'bugfix', severity: 'unspecified' });
    expect(parseWindowsRebootState(fixture('windows-reboot.json'))).toEqual({ rebootPending: true, lastPatchedAtMs: Date.UTC(2024, 3, 10) });
  });
});

describe('macOS parsers on recorded outputs', () => {
  it('applications and pkg receipts (latest version per name; last Apple install)', () => {
    const apps = parseMacApplications(fixture('macos-applications.json'));
    expect(apps.map((app) => [app.name, app.version])).toEqual([['Safari', '17.4'], ['Google Chrome', '124.0.6367.61']]);
    const history = parseMacInstallHistory(fixture('macos-install-history.json'));
    expect(history.receipts.find((item) => item.name === 'Zoom')?.version).toBe('5.17.11');
    expect(history.lastPatchedAtMs).toBe(Date.parse('2024-04-02T06:00:00Z'));
  });

  it('softwareupdate --list and launchctl list', () => {
    const { updates } = parseSoftwareUpdate(fixture('softwareupdate-list.txt'));
    expect(updates).toHaveLength(2);
    expect(updates[0]).toMatchObject({ name: 'macOS Sonoma 14.4.1', availableVersion: '14.4.1', classification: 'security' });
    expect(updates[0]!.detail).toContain('restart');
    expect(updates[1]).toMatchObject({ name: 'Numbers', classification: 'other' });
    expect(parseLaunchctl(fixture('launchctl-list.txt')).map((service) => service.state)).toEqual(['running', 'stopped', 'failed']);
  });
});
