#!/usr/bin/env node
/**
 * Builds what production runs: the server (server/dist), the agent (agent/dist), the console
 * (web/dist) and the embedded database's seed (server/pglite-seed). The bins (`ninjait`, `ninjait-agent`), `npm start` and the Docker image run these
 * files, never the TypeScript sources.
 *   node scripts/build.mjs [--if-stale] [server] [agent] [seed] [web]     (all when none is named)
 * `npm ci` (prepare) and `npm start` (prestart) pass --if-stale: a product is built only when
 * the files its last build read changed, so an up-to-date start pays a few hashes, not a build.
 * Plain JavaScript on purpose: it runs before every start, and loading tsx for it costs a second.
 *
 * Outputs keep their source's depth (server/src/cli/main.ts → server/dist/cli/main.mjs), so
 * paths the code finds relative to its own file (web/dist, the installers' templates) resolve
 * the same from the build as from the sources.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { agentBundleOptions, serverBundleOptions } from './build/esbuild-options.mjs';
import { isUpToDate, listFiles, writeStamp } from './build/stamp.mjs';

const repo = dirname(dirname(fileURLToPath(import.meta.url)));

/** What decides every product's output besides its sources: the recipe and the locked dependency versions. */
const RECIPE = ['package-lock.json', 'scripts/build.mjs', ...listFiles(repo, ['scripts/build'])];

/** The server's migrate() and the migrations it applies by default: what the seed is built from. */
const MIGRATE_ENTRY = 'server/src/stores/relational/migrate.ts';
const MIGRATIONS_DIR = 'server/src/stores/relational/migrations';

/**
 * @typedef {object} Product
 * @property {string} title
 * @property {string} outdir repo-relative
 * @property {string} sources a folder that must exist to build (absent in a Docker dependency layer)
 * @property {() => string[]} inputs files to compare besides those the last build recorded
 * @property {(outdir: string) => Promise<string[]>} build writes `outdir`, returns the files it read
 * @property {boolean} [optional] a failed build under --if-stale warns instead of failing (the server serves without it)
 */

/** @type {Record<string, Product>} */
export const PRODUCTS = {
  server: {
    title: 'the server',
    outdir: 'server/dist',
    sources: 'server/src',
    inputs: () => [...RECIPE, 'server/package.json', 'shared/package.json'],
    build: (outdir) => bundle(serverBundleOptions(repo), outdir),
  },
  agent: {
    title: 'the agent',
    outdir: 'agent/dist',
    sources: 'agent/src',
    inputs: () => [...RECIPE, 'agent/package.json', 'shared/package.json'],
    build: (outdir) => bundle(agentBundleOptions(repo), outdir),
  },
  seed: {
    title: 'the embedded database seed',
    outdir: 'server/pglite-seed',
    sources: 'server/src',
    // PGlite's version is in the lock file: a new one makes a new seed. Listed, not only recorded
    // from the last build's reads, so a migration file added beside the others rebuilds it too.
    inputs: () => [...RECIPE, ...listFiles(repo, [MIGRATE_ENTRY, MIGRATIONS_DIR])],
    build: buildPgliteSeed,
  },
  web: {
    title: 'the web console',
    outdir: 'web/dist',
    sources: 'web/src',
    inputs: () => [...RECIPE, ...listFiles(repo, ['web/src', 'web/public', 'web/index.html', 'web/vite.config.ts', 'web/package.json'])],
    build: buildConsole,
    optional: true,
  },
};

/** Imported when a build runs: a production install has no esbuild, and an up-to-date check needs none. */
async function loadEsbuild() {
  return import('esbuild').catch(() => {
    throw new Error('esbuild is not installed (a devDependency: install without --omit=dev to build)');
  });
}

/** @param {import('esbuild').BuildOptions} options @param {string} outdir */
async function bundle(options, outdir) {
  const { build } = await loadEsbuild();
  const result = await build({ ...options, outdir });
  return Object.keys(result.metafile?.inputs ?? {});
}

/**
 * A PGlite cluster with the server's migrations applied, as a tarball
 * (server/scripts/pglite-seed.mjs, where the server's PGlite dependency is declared).
 * @param {string} outdir
 */
async function buildPgliteSeed(outdir) {
  const { migrate, migrations, read } = await compileMigrate();
  const { writePgliteSeed } = await import('../server/scripts/pglite-seed.mjs');
  await writePgliteSeed(outdir, migrate, migrations);
  return ['server/scripts/pglite-seed.mjs', ...read];
}

/**
 * The server's own migrate() and migrations, TypeScript compiled in memory by esbuild (as the
 * server bundle is, and without tsx) and imported from the result: the seed runs exactly the
 * code a start runs. Bundled whole, with nothing left to resolve: a data: URL has no folder
 * to find packages from.
 * @returns {Promise<{
 *   migrate: import('../server/scripts/pglite-seed.mjs').Migrate;
 *   migrations: import('../server/scripts/pglite-seed.mjs').SeedMigration[];
 *   read: string[];
 * }>}
 */
async function compileMigrate() {
  const { build } = await loadEsbuild();
  const result = await build({
    absWorkingDir: repo, bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, metafile: true, logLevel: 'warning',
    stdin: {
      contents: `export { migrate } from './${MIGRATE_ENTRY}'; export { migrations } from './${MIGRATIONS_DIR}/index.ts';`,
      resolveDir: repo, sourcefile: 'seed-migrations.mjs',
    },
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild wrote nothing for ${MIGRATE_ENTRY}`);
  const { migrate, migrations } = await import(`data:text/javascript;base64,${Buffer.from(output.contents).toString('base64')}`);
  // The stdin module is no file: only real sources go into the stamp.
  return { migrate, migrations, read: Object.keys(result.metafile.inputs).filter((input) => input !== 'seed-migrations.mjs') };
}

/** Vite, through npm, which finds the workspace's vite wherever it was hoisted. */
async function buildConsole(/** @type {string} */ outdir) {
  const result = spawnSync('npm', ['run', 'build', '--silent', '--', '--outDir', outdir, '--emptyOutDir'], {
    cwd: join(repo, 'web'), stdio: 'inherit', shell: process.platform === 'win32',
  });
  if (result.status !== 0) throw new Error(`vite build exited with ${result.status ?? result.signal}`);
  return [];
}

/**
 * Builds into a fresh folder beside the output and swaps it in with its stamp, so a start never
 * sees half a build, and two builds at once (parallel test files) both end with a whole one.
 * @param {Product} product
 */
async function buildProduct(product) {
  const outdir = join(repo, product.outdir);
  const staging = `${outdir}.build-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    const read = await product.build(staging);
    writeStamp(repo, staging, [...read, ...product.inputs()]);
    for (let attempt = 1; ; attempt += 1) {
      try {
        rmSync(outdir, { recursive: true, force: true });
        renameSync(staging, outdir);
        return;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Builds the named products (all when none): every one, or with `ifStale` only those whose
 * inputs changed since their last build. Resolves to the exit code.
 * @param {{ ifStale?: boolean; only?: string[] }} options
 */
export async function buildProducts({ ifStale = false, only = [] } = {}) {
  const unknown = only.filter((name) => !Object.hasOwn(PRODUCTS, name));
  if (unknown.length > 0) {
    process.stderr.write(`Unknown product ${unknown.join(', ')}: choose from ${Object.keys(PRODUCTS).join(', ')}.\n`);
    return 2;
  }
  let code = 0;
  for (const [name, product] of Object.entries(PRODUCTS)) {
    if (only.length > 0 && !only.includes(name)) continue;
    if (!existsSync(join(repo, product.sources))) continue;
    if (ifStale && isUpToDate(repo, join(repo, product.outdir), product.inputs())) continue;
    const started = performance.now();
    process.stdout.write(`Building ${product.title} (${product.outdir})…\n`);
    try {
      await buildProduct(product);
      process.stdout.write(`Built ${product.title} in ${((performance.now() - started) / 1000).toFixed(1)} s.\n`);
    } catch (error) {
      // esbuild has printed its errors with their source lines already.
      const reason = error instanceof Error && !('errors' in error) ? `: ${error.message}` : ' (see above)';
      if (ifStale && product.optional) {
        process.stderr.write(`Could not build ${product.title}${reason}; the server still starts, and / says how to build it.\n`);
      } else {
        process.stderr.write(`Could not build ${product.title}${reason}.\n`);
        code = 1;
      }
    }
  }
  return code;
}

// Run as a script (not imported): real paths, so a checkout reached through a symlink still counts.
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  const { values, positionals } = parseArgs({ options: { 'if-stale': { type: 'boolean' } }, allowPositionals: true });
  process.exitCode = await buildProducts({ ifStale: values['if-stale'] ?? false, only: positionals });
}
