import { existsSync } from 'node:fs';
import { release } from 'node:os';
import { lines, type RunTool } from './run-tool.ts';

/**
 * Whether a Linux machine waits for a restart after updates: the one place the agent decides it,
 * for the inventory (what the server shows) and after a patch run (the reboot policy). Windows and
 * macOS answer in their own collectors, from the same probes that list their updates.
 *
 * - Debian/Ubuntu: apt's hooks leave /run/reboot-required (also under /var/run).
 * - RPM systems: `needs-restarting -r` (dnf-utils/yum-utils; exit 1 = a restart is needed, 0 = not),
 *   then `zypper needs-rebooting` on SUSE (exit 102 = needed); where neither answers (the tools are
 *   not installed), the running kernel is compared with the newest installed kernel package.
 */
export interface RebootProbeOptions {
  run: RunTool;
  /** An RPM-based system (rpm answered); only then are the RPM tools asked. */
  rpm: boolean;
  exists?: (path: string) => boolean;
  /** The running kernel's release (`uname -r`); replaceable in tests. */
  kernelRelease?: string;
}

const DEB_MARKERS = ['/run/reboot-required', '/var/run/reboot-required'];
/** Kernel package names across Fedora/RHEL (kernel, kernel-core) and SUSE (kernel-default). */
const KERNEL_PACKAGES = ['kernel', 'kernel-core', 'kernel-default'];
const PROBE_TIMEOUT_MS = 60_000;

export async function linuxRebootPending(options: RebootProbeOptions): Promise<boolean> {
  const exists = options.exists ?? existsSync;
  if (DEB_MARKERS.some((path) => exists(path))) return true;
  if (!options.rpm) return false;
  const { run } = options;
  const hint = readNeedsRestarting(await run('needs-restarting', ['-r'], { timeoutMs: PROBE_TIMEOUT_MS }));
  if (hint !== null) return hint;
  const zypper = await run('zypper', ['--non-interactive', 'needs-rebooting'], { timeoutMs: PROBE_TIMEOUT_MS });
  if (zypper.code === 102) return true;
  if (zypper.code === 0) return false;
  const kernels = await run('rpm', ['-q', '--qf', '%{INSTALLTIME} %{VERSION}-%{RELEASE}.%{ARCH}\\n', ...KERNEL_PACKAGES], { timeoutMs: PROBE_TIMEOUT_MS });
  // rpm exits non-zero when one of the names is not installed: the lines of the others still count.
  if (kernels.code === null) return false;
  return newerKernelInstalled(kernels.stdout, options.kernelRelease ?? release());
}

/** `needs-restarting -r`: 1 = a restart is needed, 0 = not; anything else (missing, an error) says nothing. */
export function readNeedsRestarting(out: { code: number | null; stdout: string; stderr: string }): boolean | null {
  if (out.code === 0) return false;
  // An old yum-utils without -r prints usage and exits 1 too: only its own wording counts then.
  if (out.code === 1) return !/usage:|no such (command|option)|unrecognized/i.test(`${out.stdout}\n${out.stderr}`) ? true : null;
  return null;
}

const ARCH_SUFFIX = /\.(x86_64|aarch64|ppc64le|ppc64|s390x|i686|i586|armv7hl|noarch)$/;

/** `uname -r` without its variant (+debug), flavor (-default) and architecture, to compare with a package's version-release. */
function normalizeRunning(text: string): string {
  return text.trim().replace(/\+\w+$/, '').replace(ARCH_SUFFIX, '').replace(/-[a-z][a-z0-9_]*$/, '');
}

/**
 * Whether the newest installed kernel package (by install time) is not the running kernel. RHEL
 * and Fedora name the running kernel exactly as the package (5.14.0-362.8.1.el9_3.x86_64); SUSE
 * drops the last release digit and adds a flavor (5.14.21-150500.55.39-default for
 * 5.14.21-150500.55.39.1), so a package matches when its version-release starts with the running one.
 */
export function newerKernelInstalled(rpmOutput: string, running: string): boolean {
  const installed = lines(rpmOutput)
    .map((line) => /^(\d+) (\S+)$/.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ at: Number(match[1]), versionRelease: match[2]!.replace(ARCH_SUFFIX, '') }));
  if (installed.length === 0) return false;
  const newestAt = Math.max(...installed.map((kernel) => kernel.at));
  const current = normalizeRunning(running);
  const matches = (versionRelease: string) => versionRelease === current || versionRelease.startsWith(`${current}.`);
  return !installed.filter((kernel) => kernel.at === newestAt).some((kernel) => matches(kernel.versionRelease));
}
