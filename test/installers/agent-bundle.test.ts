import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../installers/build-bundle.ts';

/** What the bundle's own node loads from its lib folder, as the agent does when it starts. */
function loadFromBundle(bundle: string, script: string): string {
  return execFileSync(join(bundle, 'bin', 'node'), ['--input-type=commonjs', '-e', script], { cwd: join(bundle, 'lib'), encoding: 'utf8' });
}

describe('the installers\' agent bundle', () => {
  let dir: string;
  let bundle: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-bundle-'));
    bundle = await buildBundle({ version: '0.0.1-test', out: join(dir, 'bundle') });
  }, 120_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('carries its native addons, loaded by name from its own folder: SQLite, and frame masking in C', () => {
    const loaded = loadFromBundle(bundle, `
      const sqlite = require('better-sqlite3');
      const db = new sqlite(':memory:');
      const one = db.prepare('select 1 as one').get().one;
      const bufferutil = require('bufferutil');
      // The JavaScript fallback's functions print their source; the addon's are native.
      process.stdout.write(JSON.stringify({ one, nativeMask: /\\[native code\\]/.test(bufferutil.mask.toString()), from: require.resolve('bufferutil') }));
    `);
    const result = JSON.parse(loaded) as { one: number; nativeMask: boolean; from: string };
    expect(result).toMatchObject({ one: 1, nativeMask: true });
    expect(result.from.startsWith(join(bundle, 'lib', 'node_modules'))).toBe(true);
  });
});
