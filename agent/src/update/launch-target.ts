import { join } from 'node:path';
import { isRunnable, nodeBinary, readText, versionDir, type UpdateLayout } from './layout.ts';
import { compareVersions } from '@ninjait/shared';

export interface LaunchTarget {
  /** The folder with bin/node and lib/agent.mjs. */
  dir: string;
  version: string;
  node: string;
  script: string;
  /** `package`: the read-only installed version; `update`: one unpacked by auto-update. */
  source: 'package' | 'update';
}

/** The version a package installed: `<baseDir>/VERSION`. */
export function packagedVersion(baseDir: string): string {
  return readText(join(baseDir, 'VERSION')) ?? '0.0.0';
}

function target(dir: string, version: string, source: LaunchTarget['source'], platform: NodeJS.Platform): LaunchTarget {
  return { dir, version, source, node: nodeBinary(dir, platform), script: join(dir, 'lib', 'agent.mjs') };
}

/**
 * Picks what to start: the auto-updated version named by `current` when it is unpacked,
 * runnable and not older than the packaged one (a package upgrade by apt/dnf/msi wins over
 * an older auto-update), else the packaged baseline.
 */
export function resolveLaunchTarget(layout: UpdateLayout, baseDir: string, platform: NodeJS.Platform = process.platform): LaunchTarget {
  const baseVersion = packagedVersion(baseDir);
  const current = readText(layout.currentFile);
  if (current && isRunnable(versionDir(layout, current), platform) && compareVersions(current, baseVersion) >= 0) {
    return target(versionDir(layout, current), current, 'update', platform);
  }
  return target(baseDir, baseVersion, 'package', platform);
}
