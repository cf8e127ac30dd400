import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { patchResultSchema, type PatchSpec } from '@ninjait/shared';
import { installCommand, installPatches } from './install.ts';
import { macInstallCommand, parseMacInstall } from './install-macos.ts';
import { hresultHex, parseWindowsInstall, WINDOWS_INSTALL_SCRIPT, windowsInstallCommand, WU_IDS_VARIABLE } from './install-windows.ts';

const fixtureLines = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8').split(/\r?\n/).filter((line) => line.trim());
const exitOk = { code: 0, tail: '', error: null };

const wu = (id: string, kb: string): PatchSpec => ({ key: `wu:${id}`, name: kb, version: 'title', source: 'windows-update' });
const cumulative = wu('0E5D1C1A-6F1B-4A52-9A3B-2F0C0F7D5B11', 'KB5036893');
const msrt = wu('not-a-guid', 'KB890830');
const dotnet = wu('3f2a9c44-0d1e-4b6a-8f00-5c1d2e3f4a5b', 'KB5036620');
const gone = wu('legacy', 'KB9999999');

const mac = (label: string, name: string, version = ''): PatchSpec => ({ key: `softwareupdate:${label}`, name, version, source: 'softwareupdate' });
const sonoma = mac('macOS Sonoma 14.4.1-23E224', 'macOS Sonoma 14.4.1', '14.4.1');
const numbers = mac('Numbers-14.0', 'Numbers', '14.0');

describe('Windows Update install', () => {
  it('runs one constant script; the ids (UpdateID, else KB) travel as JSON in the environment', () => {
    const command = windowsInstallCommand([cumulative, msrt, dotnet]);
    expect(command).toEqual({
      file: 'powershell.exe',
      args: ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-Command', WINDOWS_INSTALL_SCRIPT],
      env: { [WU_IDS_VARIABLE]: JSON.stringify(['0e5d1c1a-6f1b-4a52-9a3b-2f0c0f7d5b11', 'KB890830', '3f2a9c44-0d1e-4b6a-8f00-5c1d2e3f4a5b']) },
    });
    // The script is the same whatever is installed: no data ever becomes code.
    expect(windowsInstallCommand([gone])!.args).toEqual(command!.args);
    expect(WINDOWS_INSTALL_SCRIPT).toContain(`$env:${WU_IDS_VARIABLE}`);
    expect(installCommand([cumulative])).toEqual(windowsInstallCommand([cumulative]));
  });

  it('refuses anything but a GUID or KB number before a process starts', async () => {
    for (const name of ['2024-04 Cumulative Update', 'KB1; Remove-Item C:\\ -Recurse', 'KB', "KB123'", '']) {
      expect(windowsInstallCommand([wu('not-a-guid', name)])).toBeNull();
    }
    expect(windowsInstallCommand([wu('0e5d1c1a-6f1b-4a52-9a3b-2f0c0f7d5b11x', 'title')])).toBeNull();
    const results = await installPatches([wu('x', '$(calc)')], { installedVersion: async () => null, rebootRequired: () => false });
    expect(results).toEqual([{ key: 'wu:x', status: 'failed', code: null, message: expect.stringContaining('not valid') }]);
  });

  it('reads a result per update: installed, reboot pending, failed with the HResult in words, no longer pending', () => {
    const results = parseWindowsInstall(fixtureLines('windows-install.txt'), [cumulative, msrt, dotnet, gone], exitOk);
    expect(results).toEqual([
      { key: cumulative.key, status: 'reboot_pending', code: 0,
        message: '2024-04 Cumulative Update for Windows 11 Version 23H2 for x64-based Systems (KB5036893): installed; a restart completes it' },
      { key: msrt.key, status: 'installed', code: 0, message: 'Windows Malicious Software Removal Tool x64 - v5.124 (KB890830): installed' },
      { key: dotnet.key, status: 'failed', code: -2147024784,
        message: '2024-04 Cumulative Update for .NET Framework 3.5 and 4.8.1 for Windows 11 (KB5036620): failed, 0x80070070 (not enough disk space)' },
      { key: gone.key, status: 'failed', code: null, message: 'KB9999999 is no longer pending on this device (installed, hidden or superseded)' },
    ]);
    for (const result of results) patchResultSchema.parse(result);
  });

  it('"succeeded with errors" counts as installed and keeps the HResult; a lone result object is read too', () => {
    expect(parseWindowsInstall(fixtureLines('windows-install-partial.txt'), [msrt], exitOk)).toEqual([
      { key: msrt.key, status: 'installed', code: -2145124318,
        message: 'Windows Malicious Software Removal Tool x64 - v5.124 (KB890830): installed with errors (0x80240022 (all updates in the operation failed))' },
    ]);
  });

  it('the agent failing as a whole fails every patch with its HResult; no result line at all says why', () => {
    expect(parseWindowsInstall(fixtureLines('windows-install-error.txt'), [cumulative, msrt], { code: 1, tail: '', error: null })).toEqual([cumulative, msrt].map((patch) => ({
      key: patch.key, status: 'failed', code: -2147024891,
      message: 'Windows Update could not run: 0x80070005 (access denied (the agent must run as SYSTEM or an administrator)): Exception from HRESULT: 0x80070005 (E_ACCESSDENIED)',
    })));
    expect(parseWindowsInstall(['Searching for the pending updates'], [msrt], { code: null, tail: '', error: 'spawn powershell.exe ENOENT' })).toEqual([
      { key: msrt.key, status: 'failed', code: -1, message: 'Windows Update could not run: spawn powershell.exe ENOENT' },
    ]);
    expect(hresultHex(-2145124318)).toBe('0x80240022');
  });
});

describe('macOS softwareupdate install', () => {
  it('passes the labels as arguments, then --agree-to-license; no --restart (the policy decides)', () => {
    expect(macInstallCommand([sonoma, numbers])).toEqual({
      file: 'softwareupdate', args: ['--install', 'macOS Sonoma 14.4.1-23E224', 'Numbers-14.0', '--agree-to-license'], env: {},
    });
    expect(installCommand([sonoma])).toEqual(macInstallCommand([sonoma]));
  });

  it('refuses labels that are not printable, start with a dash, or are too long', () => {
    for (const label of ['--all', '-a', 'Safari\n--restart', 'x'.repeat(256), '', 'bad\u0007bell']) {
      expect(macInstallCommand([mac(label, 'Safari')])).toBeNull();
    }
    expect(macInstallCommand([{ ...numbers, key: 'apt:numbers' }])).toBeNull();
  });

  it('reads a result per label: installed, restart required, failed with the line that says why', () => {
    const results = parseMacInstall(fixtureLines('softwareupdate-install-restart.txt'), [sonoma, numbers], { code: 1, tail: '', error: null });
    expect(results).toEqual([
      { key: sonoma.key, status: 'reboot_pending', code: 1, message: 'Done with macOS Sonoma 14.4.1; a restart completes it' },
      { key: numbers.key, status: 'failed', code: 1,
        message: 'Numbers-14.0: Failed to download & prepare update: Error Domain=SUOSUErrorDomain Code=101 "Not enough free disk space"' },
    ]);
    for (const result of results) patchResultSchema.parse(result);
    expect(parseMacInstall(fixtureLines('softwareupdate-install.txt'), [numbers], exitOk)).toEqual([
      { key: numbers.key, status: 'installed', code: 0, message: 'Done with Numbers' },
    ]);
  });

  it('an unknown label fails with softwareupdate\'s words', () => {
    expect(parseMacInstall(fixtureLines('softwareupdate-install-unknown.txt'), [mac('Numbers-13.0', 'Numbers')], exitOk)).toEqual([
      { key: 'softwareupdate:Numbers-13.0', status: 'failed', code: 0, message: 'Numbers-13.0: Numbers-13.0: No such update' },
    ]);
  });
});
