import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const depcruise = join(root, 'node_modules/.bin/depcruise');

/**
 * A small server tree with one import of each kind, checked by the repository's own rule set:
 * the rules must reject every bad arrow and let every good one through.
 */
const FIXTURE: Record<string, string> = {
  'server/src/platform/errors.ts': `export class AppError extends Error {}\n`,
  // Bad: platform reaches up into the composition root (type-only counts).
  'server/src/platform/http/server.ts': `import type { App } from '../../app/create-app.ts';\nexport type Handler = App;\n`,
  'server/src/stores/cache/index.ts': `import { AppError } from '../../platform/errors.ts';\nexport const cacheError = AppError;\n`,
  // Good: a feature's index re-exports its inner files.
  'server/src/features/devices/index.ts': `export { listDevices } from './devices.ts';\n`,
  'server/src/features/devices/devices.ts': `import { cacheError } from '../../stores/cache/index.ts';\nexport const listDevices = () => cacheError;\n`,
  // Good: through the other feature's index. Bad: into its inner file.
  'server/src/features/tickets/tickets.ts': `import { listDevices } from '../devices/index.ts';\nexport const tickets = listDevices;\n`,
  'server/src/features/tickets/tickets.router.ts': `import { listDevices } from '../devices/devices.ts';\nexport const router = listDevices;\n`,
  // Bad: a type-only cycle between two features' files.
  'server/src/features/audit/index.ts': `import type { Shell } from '../shells/index.ts';\nexport type Audit = { shell?: Shell };\n`,
  'server/src/features/shells/index.ts': `import type { Audit } from '../audit/index.ts';\nexport type Shell = { audit?: Audit };\n`,
  // Bad: production code reaching the test harness.
  'server/src/features/tickets/seed.ts': `import { harness } from '../../../test-support/harness.ts';\nexport const seed = harness;\n`,
  'server/test-support/harness.ts': `import type { App } from '../src/app/create-app.ts';\nexport const harness = (app: App) => app;\n`,
  'server/src/app/create-app.ts': `import { tickets } from '../features/tickets/tickets.ts';\nexport type App = typeof tickets;\n`,
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', allowImportingTsExtensions: true, noEmit: true } }),
};

describe('import rules (dependency-cruiser, as `npm run lint` runs them)', () => {
  let dir: string;
  let violations: Array<{ rule: string; from: string; to: string }>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-import-rules-'));
    for (const [path, text] of Object.entries(FIXTURE)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    // depcruise exits non-zero when it finds errors: the JSON report is what we read either way.
    const output = await run(depcruise, ['server/src', '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'json'], { cwd: dir })
      .catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const report = JSON.parse(output.stdout) as { summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> } };
    violations = report.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
  }, 300_000);

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const rulesBetween = (from: string, to: string) => violations.filter((v) => v.from === from && v.to === to).map((v) => v.rule);

  it('rejects platform importing the composition root, even for a type', () => {
    expect(rulesBetween('server/src/platform/http/server.ts', 'server/src/app/create-app.ts')).toContain('platform-imports-no-layer-above');
  });

  it("rejects a feature reaching into another feature's inner file, and accepts its index", () => {
    expect(rulesBetween('server/src/features/tickets/tickets.router.ts', 'server/src/features/devices/devices.ts')).toEqual(['feature-through-its-index']);
    expect(rulesBetween('server/src/features/tickets/tickets.ts', 'server/src/features/devices/index.ts')).toEqual([]);
  });

  it('rejects a cycle made of type-only imports', () => {
    expect(violations.some((v) => v.rule === 'no-cycles' && v.from === 'server/src/features/audit/index.ts')).toBe(true);
  });

  it('rejects production code importing the test harness', () => {
    expect(rulesBetween('server/src/features/tickets/seed.ts', 'server/test-support/harness.ts')).toContain('production-never-imports-test-or-bench-code');
  });

  it('accepts arrows that point down: feature → store → platform, app → feature', () => {
    expect(rulesBetween('server/src/features/devices/devices.ts', 'server/src/stores/cache/index.ts')).toEqual([]);
    expect(rulesBetween('server/src/stores/cache/index.ts', 'server/src/platform/errors.ts')).toEqual([]);
    expect(rulesBetween('server/src/app/create-app.ts', 'server/src/features/tickets/tickets.ts')).toEqual([]);
  });
});
