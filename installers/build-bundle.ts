// Builds the platform-neutral part of every package: one folder with the Node runtime, the
// bundled agent, the launcher and the better-sqlite3 native addon. Optionally packs it as the
// tar.gz that auto-update installs. Run on the OS/arch you build for (the runtime and the
// addon are copied from this machine). The footprint benchmark calls `buildBundle` to measure
// what users install.
//   node --import tsx installers/build-bundle.ts --version 1.2.3 --out DIR [--tar FILE] [--node PATH]
import { copyFileSync, cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { build, type Plugin } from 'esbuild';
import { agentBundleOptions } from '../scripts/build/esbuild-options.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface BundleOptions {
  /** Stamped into the agent (AGENT_VERSION) and written to VERSION; defaults to agent/package.json's. */
  version?: string | undefined;
  out: string;
  /** Also pack the folder as this .tar.gz. */
  tar?: string | undefined;
  /** The Node runtime to ship; defaults to the one running this. */
  node?: string | undefined;
}

/** The version the agent reports is a constant in shared/; stamp the package version into the bundle. */
const stampVersion = (version: string): Plugin => ({
  name: 'stamp-agent-version',
  setup(b) {
    b.onLoad({ filter: /shared[\\/]src[\\/]constants\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const pattern = /export const AGENT_VERSION = '[^']*';/;
      if (!pattern.test(source)) throw new Error('AGENT_VERSION not found in shared/src/constants.ts');
      const stamped = source.replace(pattern, `export const AGENT_VERSION = '${version}';`);
      return { contents: stamped, loader: 'ts' };
    });
  },
});

/**
 * V8 stores a script's source as one byte per character only if every character is Latin-1; a
 * single other one (say an em dash in a dependency's string) doubles the ~1.3 MB the agent
 * keeps resident for its source. esbuild escapes what it can; this catches the rest.
 */
function assertLatin1(file: string): void {
  const text = readFileSync(file, 'utf8');
  const at = text.search(/[^\u0000-\u00ff]/);
  if (at >= 0) throw new Error(`${file} has a non-Latin-1 character near "${text.slice(Math.max(0, at - 40), at + 10)}": V8 would hold its source at two bytes per character`);
}

/**
 * Folders 0755, files 0644 (0755 when the owner may run them): what a package installs is
 * readable by the account the agent runs as, whatever umask built it (the quick start's is 077).
 */
function makeReadableByAll(dir: string): void {
  if (process.platform === 'win32') return;
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stats = lstatSync(path);
    if (stats.isDirectory()) makeReadableByAll(path);
    else if (stats.isFile()) chmodSync(path, stats.mode & 0o100 ? 0o755 : 0o644);
  }
}

/** Builds the bundle folder (and the tarball when asked); returns the folder. */
export async function buildBundle(opts: BundleOptions): Promise<string> {
  const version = opts.version ?? (JSON.parse(readFileSync(join(repo, 'agent/package.json'), 'utf8')) as { version: string }).version;
  if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(version)) throw new Error(`--version ${version} is not a semantic version`);
  const out = resolve(opts.out);

  rmSync(out, { recursive: true, force: true });
  mkdirSync(join(out, 'bin'), { recursive: true });
  mkdirSync(join(out, 'lib'), { recursive: true });

  // The checkout's agent build (scripts/build) with the launcher beside it and the version stamped.
  const agent = agentBundleOptions(repo);
  await build({
    ...agent,
    entryPoints: { agent: join(repo, 'agent/src/cli/main.ts'), launcher: join(repo, 'agent/src/update/launcher-main.ts') },
    outdir: join(out, 'lib'),
    metafile: false,
    plugins: [...(agent.plugins ?? []), stampVersion(version)],
  });
  for (const file of ['agent.mjs', 'launcher.mjs']) assertLatin1(join(out, 'lib', file));

  // better-sqlite3 and the two tiny packages it loads its addon with.
  const agentRequire = createRequire(join(repo, 'agent/package.json'));
  const sqliteDir = dirname(agentRequire.resolve('better-sqlite3/package.json'));
  const modules = join(out, 'lib', 'node_modules');
  const copyPackage = (dir: string, name: string, parts: string[]) => {
    for (const part of parts) cpSync(join(dir, part), join(modules, name, part), { recursive: true });
  };
  copyPackage(sqliteDir, 'better-sqlite3', ['package.json', 'lib', 'LICENSE', 'build/Release/better_sqlite3.node']);
  const sqliteRequire = createRequire(join(sqliteDir, 'package.json'));
  const bindingsDir = dirname(sqliteRequire.resolve('bindings/package.json'));
  copyPackage(bindingsDir, 'bindings', ['package.json', 'bindings.js', 'LICENSE.md']);
  const uriDir = dirname(createRequire(join(bindingsDir, 'package.json')).resolve('file-uri-to-path/package.json'));
  copyPackage(uriDir, 'file-uri-to-path', ['package.json', 'index.js', 'LICENSE']);

  // bufferutil masks the frames the agent sends (downloads are binary frames) in C instead of
  // JavaScript; ws loads it by name and falls back to JavaScript where it is missing. Its
  // prebuilt addon for this platform and node-gyp-build, which picks it.
  const bufferutilDir = dirname(agentRequire.resolve('bufferutil/package.json'));
  const bufferutilNative = `prebuilds/${process.platform}-${process.arch}`;
  if (existsSync(join(bufferutilDir, bufferutilNative))) {
    copyPackage(bufferutilDir, 'bufferutil', ['package.json', 'index.js', 'fallback.js', 'LICENSE', bufferutilNative]);
    const gypBuildDir = dirname(createRequire(join(bufferutilDir, 'package.json')).resolve('node-gyp-build/package.json'));
    copyPackage(gypBuildDir, 'node-gyp-build', ['package.json', 'index.js', 'node-gyp-build.js', 'LICENSE']);
  } else {
    console.warn(`bufferutil has no prebuilt addon for ${process.platform}-${process.arch}: the bundled agent masks frames in JavaScript`);
  }

  // node-pty for real terminals (the agent loads it by name, so esbuild leaves it out): its
  // JavaScript and this platform's addon. Where it was not built the agent still runs, with
  // piped shells, and the console says so.
  const ptyDir = (() => {
    try {
      return dirname(agentRequire.resolve('node-pty/package.json'));
    } catch {
      return null;
    }
  })();
  const ptyNative = ptyDir ? ['build/Release', `prebuilds/${process.platform}-${process.arch}`].find((d) => existsSync(join(ptyDir, d))) : undefined;
  if (ptyDir && ptyNative) copyPackage(ptyDir, 'node-pty', ['package.json', 'lib', 'LICENSE', ptyNative]);
  else console.warn('node-pty is not built for this platform: the bundled agent will open piped shells, not terminals');

  const nodeTarget = join(out, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  copyFileSync(opts.node ?? process.execPath, nodeTarget);
  chmodSync(nodeTarget, 0o755);
  writeFileSync(join(out, 'VERSION'), `${version}\n`);
  writeFileSync(join(out, 'lib', 'package.json'), `${JSON.stringify({ type: 'module', private: true })}\n`);
  makeReadableByAll(out);

  if (opts.tar) {
    mkdirSync(dirname(resolve(opts.tar)), { recursive: true });
    // Owner-neutral and in a stable order, so two builds of one commit differ only in timestamps.
    const owner = process.platform === 'win32' ? [] : ['--owner=0', '--group=0', '--numeric-owner'];
    execFileSync('tar', [...owner, '-czf', resolve(opts.tar), '-C', out, '.'], { stdio: 'inherit' });
  }
  return out;
}

// Run as a script (not imported by the benchmark): parse the command line and build. Real paths,
// so a checkout reached through a symlink (macOS /tmp) still counts as "run directly".
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  const { values } = parseArgs({
    options: { version: { type: 'string' }, out: { type: 'string' }, tar: { type: 'string' }, node: { type: 'string' } },
  });
  if (!values.out) throw new Error('usage: build-bundle.ts --version X.Y.Z --out DIR [--tar FILE] [--node PATH]');
  const out = await buildBundle({ version: values.version, out: values.out, tar: values.tar, node: values.node });
  const version = readFileSync(join(out, 'VERSION'), 'utf8').trim();
  process.stdout.write(`bundle ${version} for ${process.platform}-${process.arch} in ${out}${values.tar ? ` and ${values.tar}` : ''}\n`);
}
