import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Why this machine cannot run the real apt test, or null. */
export async function aptTestRefusal(): Promise<string | null> {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not running as root (dpkg -i and apt-get install need it)';
  for (const tool of ['dpkg-deb', 'dpkg-scanpackages', 'apt-get', 'dpkg']) {
    try {
      await run('sh', ['-c', 'command -v "$1"', 'sh', tool]);
    } catch {
      return `${tool} is not installed`;
    }
  }
  return null;
}

export interface PackageSpec {
  name: string;
  version: string;
  /** A postinst that exits with this code (a broken maintainer script). */
  postinstExit?: number;
}

/**
 * A scratch apt world: packages built with dpkg-deb, a file:// repository with its own lists and
 * cache folders, so apt's options point only there and nothing of the system's apt state changes.
 */
export async function createAptWorld() {
  const dir = await mkdtemp(join(tmpdir(), 'ninjait-apt-'));
  const repo = join(dir, 'repo');
  const lists = join(dir, 'lists');
  const cache = join(dir, 'cache');
  await Promise.all([mkdir(repo), mkdir(join(lists, 'partial'), { recursive: true }), mkdir(join(cache, 'archives', 'partial'), { recursive: true })]);
  const sourceList = join(dir, 'ninjait-test.list');
  await writeFile(sourceList, `deb [trusted=yes] file://${repo} ./\n`);
  const aptOptions = [
    '-o', `Dir::Etc::sourcelist=${sourceList}`, '-o', 'Dir::Etc::sourceparts=-', '-o', `Dir::State::Lists=${lists}`,
    '-o', `Dir::Cache=${cache}`, '-o', 'APT::Get::List-Cleanup=0',
  ];
  const installed = new Set<string>();

  async function build(spec: PackageSpec): Promise<string> {
    const root = join(dir, `${spec.name}_${spec.version}`);
    await mkdir(join(root, 'DEBIAN'), { recursive: true });
    await mkdir(join(root, 'usr', 'share', spec.name), { recursive: true });
    await writeFile(join(root, 'usr', 'share', spec.name, 'version'), `${spec.version}\n`);
    await writeFile(join(root, 'DEBIAN', 'control'), [
      `Package: ${spec.name}`, `Version: ${spec.version}`, 'Architecture: all', 'Maintainer: NinjaIT tests <tests@ninjait.invalid>',
      'Section: misc', 'Priority: optional', 'Description: NinjaIT patching test package', '',
    ].join('\n'));
    if (spec.postinstExit !== undefined) {
      await writeFile(join(root, 'DEBIAN', 'postinst'), `#!/bin/sh\necho "postinst failing on purpose" >&2\nexit ${spec.postinstExit}\n`);
      await chmod(join(root, 'DEBIAN', 'postinst'), 0o755);
    }
    const deb = join(dir, `${spec.name}_${spec.version}_all.deb`);
    await run('dpkg-deb', ['--root-owner-group', '--build', root, deb]);
    return deb;
  }

  return {
    dir,
    aptOptions,
    /** Builds and installs a version with dpkg (a downgrade too). */
    async install(spec: PackageSpec) {
      const deb = await build(spec);
      await run('dpkg', ['-i', deb]);
      installed.add(spec.name);
    },
    /** Builds versions into the repository and refreshes its index and apt's lists for it alone. */
    async publish(specs: PackageSpec[]) {
      for (const spec of specs) {
        const deb = await build(spec);
        await run('cp', [deb, repo]);
      }
      const { stdout } = await run('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], { cwd: repo });
      await writeFile(join(repo, 'Packages'), stdout);
      await run('apt-get', ['update', '-q', ...aptOptions]);
    },
    async version(name: string): Promise<string | null> {
      try {
        const { stdout } = await run('dpkg-query', ['-W', '-f', '${db:Status-Abbrev}|${Version}', name]);
        const [status = '', version = ''] = stdout.split('|');
        return /^[ih]i/.test(status) ? version : null;
      } catch {
        return null;
      }
    },
    /** Purges the test packages (also half-configured ones) and the scratch folder. */
    async cleanup() {
      for (const name of installed) await run('dpkg', ['--purge', '--force-all', name]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    },
  };
}
