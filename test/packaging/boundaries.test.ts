import { isBuiltin } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/processes.ts';
import { importsOf, owningPackageDir, packageNameOf, readManifest, sourceFiles, type Manifest } from './imports.ts';

/**
 * Package boundaries, checked over every source file of the repository: a package reaches
 * another only by its name (through that package's `exports` map), and declares every package
 * it imports. The production builds check the stricter half themselves (run-time imports in
 * `dependencies`: scripts/build/declared-imports.mjs); the bins, which no build reads, are
 * checked here.
 */

/** Relative imports across a package line that stay, each with the reason. */
const ALLOWED_CROSSINGS: Record<string, string> = {
  // The footprint benchmark measures what the installers build; installers/ is the root
  // package's build tooling, not a workspace with an exports map.
  'bench/src/lib/agent-process.ts -> installers/build-bundle.ts': 'benchmarks measure the installers\' bundle',
  // `npm run db:types` is the root's build tooling (like installers/): it applies the server's
  // migrations to write the typed-query schema, which no package export should offer.
  'scripts/relational-schema/generate.ts -> server/src/stores/relational/index.ts': 'the schema generator runs the server\'s migrations',
  // The build packs the embedded database's seed with the server's own PGlite (its dependency).
  'scripts/build.mjs -> server/scripts/pglite-seed.mjs': 'the build makes the server\'s PGlite seed',
};

/**
 * Tests of the installers reach into installers/, the root package's build tooling, which has no
 * exports map to go through.
 */
const INSTALLERS_TESTS = /^test\/installers\/[^ ]+ -> installers\//;

const root = readManifest(REPO_ROOT);
const packageDirs = [REPO_ROOT, ...root.workspaces.map((workspace) => join(REPO_ROOT, workspace))];
const manifests = new Map(packageDirs.map((dir) => [dir, readManifest(dir)]));
const files = [
  ...root.workspaces.flatMap((workspace) => sourceFiles(join(REPO_ROOT, workspace))),
  ...['installers', 'scripts'].flatMap((dir) => sourceFiles(join(REPO_ROOT, dir))),
  ...['vitest.config.ts', 'eslint.config.js'].map((file) => join(REPO_ROOT, file)),
];
const scanned = files.map((file) => ({ file, path: relative(REPO_ROOT, file), owner: manifests.get(owningPackageDir(file, REPO_ROOT))!, imports: importsOf(file) }));

/** Packages `owner`'s files may name: its own declarations, and the root's shared tooling (vitest, typescript, tsx, esbuild). */
function declared(owner: Manifest): Set<string> {
  return new Set([owner.name, ...[owner.dependencies, owner.devDependencies, owner.peerDependencies, owner.optionalDependencies, root.devDependencies].flatMap(Object.keys)]);
}

const bare = (specifier: string) => !specifier.startsWith('.') && !specifier.startsWith('/') && !isBuiltin(specifier);

describe('package boundaries', () => {
  it(`scans every package's sources (${files.length} files)`, () => {
    expect(files.length).toBeGreaterThan(300);
    expect(scanned.filter(({ owner }) => owner === undefined)).toEqual([]);
  });

  it('no file reaches into another package by a relative path', () => {
    const crossings = scanned.flatMap(({ file, path, owner, imports }) => imports
      .filter(({ specifier }) => specifier.startsWith('.'))
      .map(({ specifier }) => resolve(dirname(file), specifier))
      .filter((target) => owningPackageDir(target, REPO_ROOT) !== owner.dir)
      .map((target) => `${path} -> ${relative(REPO_ROOT, target)}`))
      .filter((crossing) => !Object.hasOwn(ALLOWED_CROSSINGS, crossing) && !INSTALLERS_TESTS.test(crossing));
    expect(crossings).toEqual([]);
  });

  it('every package a file imports is declared by the package the file belongs to', () => {
    const undeclared = scanned.flatMap(({ path, owner, imports }) => imports
      .filter(({ specifier }) => bare(specifier) && !declared(owner).has(packageNameOf(specifier)))
      .map(({ specifier }) => `${path} imports ${packageNameOf(specifier)}, not in ${relative(REPO_ROOT, join(owner.dir, 'package.json'))}`));
    expect(undeclared).toEqual([]);
  });

  it('bins load only their own package, Node built-ins and dependencies (a production install has nothing else)', () => {
    const bins = [...manifests.values()].flatMap((manifest) => Object.values(manifest.bin).map((bin) => ({ manifest, file: join(manifest.dir, bin) })));
    expect(bins.length).toBeGreaterThanOrEqual(2);
    const wrong = bins.flatMap(({ manifest, file }) => importsOf(file)
      .filter(({ specifier, typeOnly }) => !typeOnly && bare(specifier))
      .filter(({ specifier }) => ![manifest.name, ...Object.keys(manifest.dependencies)].includes(packageNameOf(specifier)))
      .map(({ specifier }) => `${relative(REPO_ROOT, file)} imports ${specifier}`));
    expect(wrong).toEqual([]);
  });
});
