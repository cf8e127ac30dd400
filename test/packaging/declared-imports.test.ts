import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/processes.ts';
import { cleanEnv, run } from './dockerfile.ts';

/**
 * The production builds' guard (scripts/build/declared-imports.mjs), run by real esbuild in a
 * child process on a scratch package: a run-time import must be in the importing package's
 * `dependencies`, or the build fails naming the file and the package.json.
 */
const BUILD = `
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const { build } = createRequire(process.env.REPO + '/package.json')('esbuild');
const { declaredImports } = await import(pathToFileURL(process.env.REPO + '/scripts/build/declared-imports.mjs').href);
try {
  await build({ entryPoints: [process.env.ENTRY], bundle: true, write: false, platform: 'node', format: 'esm', logLevel: 'silent',
    plugins: [declaredImports({ root: process.env.ROOT, isExternal: () => true })] });
  process.stdout.write('built');
} catch (error) {
  process.stdout.write(error.errors.map((e) => e.text).join('\\n'));
}`;

describe('production builds refuse run-time imports a package does not declare', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-declared-'));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', type: 'module', dependencies: { 'runtime-dep': '*' }, devDependencies: { 'dev-dep': '*' } }));
    const sources: Record<string, string> = {
      'declared.ts': "import value from 'runtime-dep/sub/path';\nexport { value };\n",
      'dev-dependency.ts': "import value from 'dev-dep';\nexport { value };\n",
      'type-only.ts': "import type { Value } from 'dev-dep';\nexport const value: Value | null = null;\n",
      'undeclared.ts': "export { value } from 'nowhere-declared';\n",
      'dynamic.ts': "export const load = () => import('dev-dep');\n",
    };
    for (const [name, text] of Object.entries(sources)) writeFileSync(join(dir, 'src', name), text);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  const buildOf = (file: string) => run([process.execPath, '--input-type=module', '-e', BUILD], {
    cwd: REPO_ROOT, env: cleanEnv({ REPO: REPO_ROOT, ROOT: dir, ENTRY: join(dir, 'src', file) }),
  });

  it('builds a declared dependency (a subpath too) and a type-only import of a devDependency', async () => {
    expect(await buildOf('declared.ts')).toBe('built');
    expect(await buildOf('type-only.ts')).toBe('built');
  });

  it('fails on a devDependency, an undeclared package and a dynamic import, naming file and manifest', async () => {
    expect(await buildOf('dev-dependency.ts')).toBe('"dev-dep" is imported by src/dev-dependency.ts at run time but is not in the dependencies of package.json');
    expect(await buildOf('undeclared.ts')).toBe('"nowhere-declared" is imported by src/undeclared.ts at run time but is not in the dependencies of package.json');
    expect(await buildOf('dynamic.ts')).toContain('"dev-dep" is imported by src/dynamic.ts');
  });
});
