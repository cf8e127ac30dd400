import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Mapping } from './mapping.ts';
import { runRelayout, type RelayoutOptions } from './relayout.ts';
import { git } from './tree.ts';

/**
 * A small repository with one of each kind of reference the real one has: static, type-only,
 * re-export, `typeof import()`, `vi.mock`, `new URL(…, import.meta.url)`, package `exports`,
 * tsconfig `include`, repository paths in prose and code, src-relative paths in comments.
 */
const FIXTURE: Record<string, string> = {
  'package.json': '{ "name": "fixture", "private": true, "scripts": { "start": "node lib/src/old/a.ts" } }\n',
  'tsconfig.json': '{\n  "include": ["lib/src", "other"]\n}\n',
  'lib/package.json': '{\n  "name": "@fx/lib",\n  "exports": {\n    ".": "./src/index.ts",\n    "./testing/h": "./src/testing/h.ts"\n  }\n}\n',
  'lib/src/index.ts': "export { a } from './old/a.ts';\nexport type { B } from './util/b.ts';\n",
  'lib/src/old/a.ts': [
    "import type { B } from '../util/b.ts';",
    '// B comes from util/b.ts.',
    'export const a: B = 1;',
    "export const asset = new URL('../../../assets/x.txt', import.meta.url);",
    '',
  ].join('\n'),
  'lib/src/old/a.test.ts': [
    "import { vi } from 'vitest';",
    "import { a } from './a.ts';",
    "vi.mock('../util/b.ts', async (original) => ({ ...(await original<typeof import('../util/b.ts')>()) }));",
    'export const seen = a;',
    '',
  ].join('\n'),
  'lib/src/util/b.ts': 'export type B = number;\n',
  'lib/src/old/d.ts': 'export const d = 4;\n',
  'lib/src/testing/h.ts': "import { a } from '../old/a.ts';\nexport const h = a;\n",
  'other/use.ts': "import { a } from '../lib/src/old/a.ts';\nexport const where = 'lib/src/old/a.ts';\nexport const used = a;\n",
  'README.md': 'See `lib/src/old/a.ts`, everything in lib/src/old/ and lib/src/util.\n',
  'assets/x.txt': 'x\n',
};

const mappingFor = (files: Record<string, string>): Mapping => ({
  scope: 'lib/src/',
  newLayoutRoots: ['lib/src/features/'],
  testOnlyRoots: ['lib/test-support/'],
  textExclude: [],
  edits: [],
  suggest: { 'lib/src/old/': 'lib/src/features/a/', 'lib/src/': 'lib/src/platform/' },
  files,
});

const FULL: Record<string, string> = {
  'lib/src/index.ts': 'lib/src/index.ts',
  'lib/src/old/a.ts': 'lib/src/features/a/a.ts',
  'lib/src/old/a.test.ts': 'lib/src/features/a/a.test.ts',
  'lib/src/util/b.ts': 'lib/src/platform/b.ts',
  'lib/src/old/d.ts': 'lib/src/platform/d.ts',
  'lib/src/testing/h.ts': 'lib/test-support/h.ts',
};

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function fixtureRepo(extra: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'relayout-'));
  roots.push(root);
  for (const [path, text] of Object.entries({ ...FIXTURE, ...extra })) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  git(root, ['init', '--quiet']);
  git(root, ['config', 'user.email', 'fixture@example.invalid']);
  git(root, ['config', 'user.name', 'fixture']);
  git(root, ['add', '-A']);
  git(root, ['commit', '--quiet', '-m', 'fixture']);
  return root;
}

function run(root: string, files: Record<string, string>, options: Partial<RelayoutOptions> = {}) {
  const lines: string[] = [];
  const code = runRelayout({ root, mapping: mappingFor(files), log: (line) => lines.push(line), ...options });
  return { code, output: lines.join('\n') };
}

const read = (root: string, path: string) => readFileSync(join(root, path), 'utf8');

describe('relayout', () => {
  it('moves the files, re-aims every kind of reference, and then has nothing left to do', () => {
    const root = fixtureRepo();
    const first = run(root, FULL);
    expect(first.code, first.output).toBe(0);

    expect(read(root, 'lib/src/index.ts')).toBe("export { a } from './features/a/a.ts';\nexport type { B } from './platform/b.ts';\n");
    const a = read(root, 'lib/src/features/a/a.ts');
    expect(a).toContain("import type { B } from '../../platform/b.ts';");
    expect(a).toContain('// B comes from platform/b.ts.');
    expect(a).toContain("new URL('../../../../assets/x.txt', import.meta.url)");
    const test = read(root, 'lib/src/features/a/a.test.ts');
    expect(test).toContain("import { a } from './a.ts';");
    expect(test).toContain("vi.mock('../../platform/b.ts'");
    expect(test).toContain("typeof import('../../platform/b.ts')");
    expect(read(root, 'lib/test-support/h.ts')).toContain("from '../src/features/a/a.ts'");
    expect(read(root, 'other/use.ts')).toContain("from '../lib/src/features/a/a.ts'");
    expect(read(root, 'other/use.ts')).toContain("'lib/src/features/a/a.ts'");
    // lib/src/old splits (d.ts goes elsewhere): prose naming it is taken to mean where most of it goes, and said.
    expect(read(root, 'README.md')).toBe('See `lib/src/features/a/a.ts`, everything in lib/src/features/a/ and lib/src/platform.\n');
    expect(first.output).toContain('README.md:1: lib/src/old (a folder that splits) -> lib/src/features/a, where most of it goes: check');
    expect(read(root, 'package.json')).toContain('node lib/src/features/a/a.ts');
    expect(JSON.parse(read(root, 'lib/package.json')).exports).toEqual({ '.': './src/index.ts', './testing/h': './test-support/h.ts' });
    expect(JSON.parse(read(root, 'tsconfig.json')).include).toEqual(['lib/src', 'lib/test-support', 'other']);
    expect(existsSync(join(root, 'lib/src/old')), 'emptied folders are removed').toBe(false);

    // Staged for review: every old path gone, every new one added (the --commit test checks the renames).
    const staged = git(root, ['diff', '--cached', '--name-status', '--no-renames']).trim().split('\n');
    for (const [from, to] of Object.entries(FULL).filter(([f, t]) => f !== t)) expect(staged).toEqual(expect.arrayContaining([`D\t${from}`, `A\t${to}`]));
    const unstaged = git(root, ['status', '--porcelain']).split('\n').filter((line) => line !== '' && line[1] !== ' ');
    expect(unstaged, 'nothing left unstaged').toEqual([]);

    git(root, ['commit', '--quiet', '-m', 'relayout']);
    const again = run(root, FULL);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('nothing to move');
    expect(again.output).toContain('5 already at their target');
    expect(git(root, ['status', '--porcelain'])).toBe('');
  });

  it('finishes a partial run: files already at their target are skipped, the rest moves', () => {
    const root = fixtureRepo();
    const onlyB = Object.fromEntries(Object.keys(FULL).map((from) => [from, from === 'lib/src/util/b.ts' ? FULL[from]! : from]));
    expect(run(root, onlyB, { commit: true }).code).toBe(0);
    const second = run(root, FULL, { commit: true });
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('4 files to move, 1 already at their target');
    expect(read(root, 'lib/src/features/a/a.ts')).toContain("import type { B } from '../../platform/b.ts';");
    expect(read(root, 'lib/src/index.ts')).toBe("export { a } from './features/a/a.ts';\nexport type { B } from './platform/b.ts';\n");
  });

  it('with --commit, the first commit holds renames only (100 % similar) and the second the rewrites', () => {
    const root = fixtureRepo();
    expect(run(root, FULL, { commit: true }).code).toBe(0);
    const renames = git(root, ['diff', '--name-status', '-M', 'HEAD~2', 'HEAD~1']).trim().split('\n');
    expect(renames).toHaveLength(5);
    for (const line of renames) expect(line).toMatch(/^R100\t/);
    expect(git(root, ['diff', '--name-status', 'HEAD~1', 'HEAD']).trim().split('\n').every((l) => l.startsWith('M\t'))).toBe(true);
    expect(git(root, ['status', '--porcelain'])).toBe('');
  });

  it('refuses, changing nothing, when a file is unmapped; --auto moves it where suggested, its test beside it', () => {
    const root = fixtureRepo({ 'lib/src/old/c.ts': 'export const c = 3;\n', 'lib/src/old/c.int.test.ts': "import { c } from './c.ts';\nexport const t = c;\n" });
    const refused = run(root, FULL);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('"lib/src/old/c.ts": "lib/src/features/a/c.ts",');
    expect(refused.output).toContain('"lib/src/old/c.int.test.ts": "lib/src/features/a/c.int.test.ts",');
    expect(git(root, ['status', '--porcelain'])).toBe('');
    expect(existsSync(join(root, 'lib/src/old/a.ts'))).toBe(true);

    const auto = run(root, FULL, { auto: true });
    expect(auto.code, auto.output).toBe(0);
    expect(read(root, 'lib/src/features/a/c.int.test.ts')).toContain("from './c.ts'");
  });

  it('refuses, changing nothing, when a mapped file does not exist or production would import test support', () => {
    const root = fixtureRepo();
    const missing = run(root, { ...FULL, 'lib/src/old/gone.ts': 'lib/src/features/a/gone.ts' });
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('mapped file does not exist: lib/src/old/gone.ts');

    const root2 = fixtureRepo({ 'lib/src/old/a.ts': `${FIXTURE['lib/src/old/a.ts']}import '../testing/h.ts';\n` });
    const upward = run(root2, FULL);
    expect(upward.code).toBe(1);
    expect(upward.output).toContain('production file lib/src/features/a/a.ts would import test-only lib/test-support/h.ts');
    for (const dir of [root, root2]) expect(git(dir, ['status', '--porcelain'])).toBe('');
  });

  it('refuses a work tree with changes', () => {
    const root = fixtureRepo();
    writeFileSync(join(root, 'README.md'), 'edited\n');
    expect(run(root, FULL).code).toBe(2);
    expect(read(root, 'lib/src/old/a.ts')).toBe(FIXTURE['lib/src/old/a.ts']);
  });
});
