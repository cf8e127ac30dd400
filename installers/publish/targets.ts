/** The packages this machine can build for itself, and the reason for each it cannot. */

export type LocalKind = 'bundle' | 'deb' | 'rpm';

export interface Target {
  kind: LocalKind;
  platform: 'linux' | 'darwin';
  arch: string;
  /** The file name the build writes (installers/linux/build.sh, build-bundle.ts as called here). */
  file: string;
}

export interface Skipped {
  kind: LocalKind;
  reason: string;
}

const DEB_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };
const RPM_ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

/**
 * In build order: the bundle first (both packages are made from it, and it is what auto-update
 * and the no-package install line download), then the .deb, then the .rpm.
 */
export function planTargets(opts: { version: string; platform: NodeJS.Platform; arch: string; has(command: string): boolean }): { targets: Target[]; skipped: Skipped[] } {
  const { version, platform, arch } = opts;
  const targets: Target[] = [];
  const skipped: Skipped[] = [];
  if (platform !== 'linux' && platform !== 'darwin') {
    for (const kind of ['bundle', 'deb', 'rpm'] as const) skipped.push({ kind, reason: `no local packages on ${platform}: Windows builds its MSI in CI (installers/windows/build.ps1)` });
    return { targets, skipped };
  }
  targets.push({ kind: 'bundle', platform, arch, file: `ninjait-agent-${version}-${platform}-${arch}.tar.gz` });
  const linux = (kind: 'deb' | 'rpm', tool: string, file: string | null, install: string) => {
    if (platform !== 'linux') skipped.push({ kind, reason: `a .${kind} is built on Linux` });
    else if (!file) skipped.push({ kind, reason: `no .${kind} for the ${arch} architecture` });
    else if (!opts.has(tool)) skipped.push({ kind, reason: `${tool} not found: ${install}, then start again` });
    else targets.push({ kind, platform, arch, file });
  };
  linux('deb', 'dpkg-deb', DEB_ARCH[arch] ? `ninjait-agent_${version}_${DEB_ARCH[arch]}.deb` : null, 'install dpkg (it brings dpkg-deb)');
  linux('rpm', 'rpmbuild', RPM_ARCH[arch] ? `ninjait-agent-${version}-1.${RPM_ARCH[arch]}.rpm` : null, 'apt-get install rpm (Debian, Ubuntu) or dnf install rpm-build');
  return { targets, skipped };
}
