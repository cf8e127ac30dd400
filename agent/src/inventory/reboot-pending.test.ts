import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { collectSoftware } from './collect.ts';
import { linuxRebootPending, newerKernelInstalled, readNeedsRestarting } from './reboot-pending.ts';
import type { RunTool, ToolResult } from './run-tool.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const result = (code: number | null, stdout = '', stderr = ''): ToolResult => ({ code, stdout, stderr, error: code === null ? 'ENOENT' : null });
const missing = result(null);

/** A machine of recorded outputs: each tool answers what it printed on a real system; the calls are kept. */
function machine(answers: Record<string, ToolResult>) {
  const calls: string[][] = [];
  const run: RunTool = async (file, args) => {
    calls.push([file, ...args]);
    return answers[file] ?? missing;
  };
  return { run, calls };
}

describe('reboot pending on RPM systems (recorded outputs of RHEL 9 and SLES 15)', () => {
  it('reads needs-restarting -r by its exit code: 1 needs a restart, 0 does not, a usage error says nothing', () => {
    expect(readNeedsRestarting(result(1, fixture('needs-restarting-required.txt')))).toBe(true);
    expect(readNeedsRestarting(result(0, fixture('needs-restarting-none.txt')))).toBe(false);
    expect(readNeedsRestarting(result(1, '', fixture('needs-restarting-usage.txt')))).toBeNull();
    expect(readNeedsRestarting(result(2, '', fixture('needs-restarting-usage.txt')))).toBeNull();
    expect(readNeedsRestarting(missing)).toBeNull();
  });

  it('asks needs-restarting with an argument array and believes it', async () => {
    const required = machine({ 'needs-restarting': result(1, fixture('needs-restarting-required.txt')) });
    expect(await linuxRebootPending({ run: required.run, rpm: true, exists: () => false })).toBe(true);
    expect(required.calls).toEqual([['needs-restarting', '-r']]);
    const none = machine({ 'needs-restarting': result(0, fixture('needs-restarting-none.txt')), rpm: result(0, fixture('rpm-q-kernels-rhel9.txt')) });
    // The tool's word wins even where the kernels would say otherwise.
    expect(await linuxRebootPending({ run: none.run, rpm: true, exists: () => false, kernelRelease: '5.14.0-362.8.1.el9_3.x86_64' })).toBe(false);
  });

  it('without needs-restarting, asks zypper needs-rebooting (102: needed)', async () => {
    expect(await linuxRebootPending({ run: machine({ zypper: result(102, 'Since the last system boot core libraries or services have been updated.\nReboot is suggested to ensure that your system benefits from these updates.\n') }).run, rpm: true, exists: () => false })).toBe(true);
    expect(await linuxRebootPending({ run: machine({ zypper: result(0, 'No core libraries or services have been updated since the last system boot.\n') }).run, rpm: true, exists: () => false })).toBe(false);
  });

  it('without either tool, compares the running kernel with the newest installed kernel package', async () => {
    const rhel = fixture('rpm-q-kernels-rhel9.txt');
    expect(newerKernelInstalled(rhel, '5.14.0-362.8.1.el9_3.x86_64')).toBe(true);
    expect(newerKernelInstalled(rhel, '5.14.0-362.13.1.el9_3.x86_64')).toBe(false);
    expect(newerKernelInstalled(rhel, '5.14.0-362.13.1.el9_3.x86_64+debug')).toBe(false);
    const sles = fixture('rpm-q-kernels-sles15.txt');
    expect(newerKernelInstalled(sles, '5.14.21-150500.55.36-default')).toBe(true);
    expect(newerKernelInstalled(sles, '5.14.21-150500.55.39-default')).toBe(false);
    // No kernel package at all (a container): nothing to compare, no restart.
    expect(newerKernelInstalled('package kernel is not installed\n', '6.1.0-13-amd64')).toBe(false);

    const old = machine({ rpm: result(1, rhel) });
    expect(await linuxRebootPending({ run: old.run, rpm: true, exists: () => false, kernelRelease: '5.14.0-362.8.1.el9_3.x86_64' })).toBe(true);
    expect(old.calls).toEqual([
      ['needs-restarting', '-r'],
      ['zypper', '--non-interactive', 'needs-rebooting'],
      ['rpm', '-q', '--qf', '%{INSTALLTIME} %{VERSION}-%{RELEASE}.%{ARCH}\\n', 'kernel', 'kernel-core', 'kernel-default'],
    ]);
  });

  it('on Debian the marker file decides and no RPM tool is asked', async () => {
    const deb = machine({});
    expect(await linuxRebootPending({ run: deb.run, rpm: false, exists: (path) => path === '/run/reboot-required' })).toBe(true);
    expect(await linuxRebootPending({ run: deb.run, rpm: false, exists: () => false })).toBe(false);
    expect(deb.calls).toEqual([]);
  });

  it('the inventory of an RPM system carries the answer (one place decides it for the collector and the patch runner)', async () => {
    const { run, calls } = machine({
      rpm: result(0, fixture('rpm-qa.txt')),
      dnf: result(0, ''),
      'needs-restarting': result(1, fixture('needs-restarting-required.txt')),
    });
    const snapshot = await collectSoftware({ platform: 'linux', run, fileExists: () => false, fileMtimeMs: () => null });
    expect(snapshot.software.length).toBeGreaterThan(0);
    expect(snapshot.rebootPending).toBe(true);
    expect(calls).toContainEqual(['needs-restarting', '-r']);
  });
});
