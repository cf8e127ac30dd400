import { join } from 'node:path';
import { declaredImports } from './declared-imports.mjs';

/** @typedef {import('esbuild').BuildOptions} BuildOptions */

/** Workspace packages ship TypeScript sources: always bundled, never resolved at run time. */
const isWorkspacePackage = (/** @type {string} */ name) => name.startsWith('@ninjait/');

/**
 * Left out of the agent bundle: the SQLite and pty native addons (installed or copied beside the bundle;
 * without node-pty terminals fall back to piped shells)
 * and ws' optional accelerators, absent on purpose (ws falls back to plain JavaScript).
 */
export const AGENT_EXTERNAL_PACKAGES = ['better-sqlite3', 'node-pty', 'bufferutil', 'utf-8-validate'];

/** @param {string} repo @returns {BuildOptions} */
function nodeBundle(repo) {
  return {
    absWorkingDir: repo,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    legalComments: 'linked',
    // The inputs, so a later `--if-stale` build knows what to compare.
    metafile: true,
    logLevel: 'warning',
  };
}

/**
 * The agent as it ships: one ESM file with every dependency inside (one file to load is the
 * quickest start and the smallest resident source), the native addon outside. The checkout's
 * `ninjait-agent` and the installers' bundle (installers/build-bundle.ts) both build from these.
 * @param {string} repo @returns {BuildOptions}
 */
export function agentBundleOptions(repo) {
  return {
    ...nodeBundle(repo),
    entryPoints: { 'cli/main': join(repo, 'agent/src/cli/main.ts') },
    // Bundled CommonJS dependencies call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as __ninjaitCreateRequire } from 'node:module'; const require = __ninjaitCreateRequire(import.meta.url);" },
    // Drops comments and indentation: V8 keeps each script's source in memory for as long as the
    // agent runs (a third smaller this way). Names stay, so stack traces remain readable.
    minifyWhitespace: true,
    plugins: [declaredImports({ root: repo, isExternal: (name) => AGENT_EXTERNAL_PACKAGES.includes(name) })],
  };
}

/**
 * Third-party packages bundled into the server anyway: pure JavaScript loaded at every start, in
 * many files. Node 20's ESM loader pays per file, and these two were 390 of the ~1,100 files a
 * `serve` loaded (kysely alone 289): bundled, loading them costs 0.15 s of CPU instead of 0.45 s
 * at every start (every test that starts the server). No package outside the bundle imports them,
 * so there is one copy of each at run time.
 */
export const SERVER_BUNDLED_PACKAGES = ['kysely', 'zod'];

/**
 * The server: its own code and the workspace packages in one file; other third-party packages stay
 * imports resolved from node_modules (`npm ci --omit=dev -w server`), where native and wasm
 * parts (chdb, PGlite's wasm, bullmq's Lua scripts, pino's worker transports) find their files
 * as they do in development. Source maps (no sources inside) keep stack traces pointing at the
 * TypeScript.
 * @param {string} repo @returns {BuildOptions}
 */
export function serverBundleOptions(repo) {
  return {
    ...nodeBundle(repo),
    // The chdb process the server forks (server/src/stores/analytics/chdb/chdb-process.ts) is an
    // entry of its own, beside the chunk that starts it.
    entryPoints: { 'cli/main': join(repo, 'server/src/cli/main.ts'), 'cli/chdb-host': join(repo, 'server/src/stores/analytics/chdb/chdb-host.ts') },
    // The CLI loads each command when it runs (server/src/cli/main.ts); split, a client command
    // never parses the server's code. Chunks sit beside main.mjs: code that finds files from
    // import.meta.url sees the same depth in either.
    splitting: true,
    chunkNames: 'cli/[name]-[hash]',
    sourcemap: 'linked',
    sourcesContent: false,
    plugins: [declaredImports({ root: repo, isExternal: (name) => !isWorkspacePackage(name) && !SERVER_BUNDLED_PACKAGES.includes(name) })],
  };
}
