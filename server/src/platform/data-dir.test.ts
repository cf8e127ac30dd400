import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secureDataDir } from './data-dir.ts';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ninjait-data-dir-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

describe('secureDataDir', () => {
  it('creates a missing DATA_DIR owner-only', () => {
    const dir = join(root, 'new', 'data');
    secureDataDir(dir);
    expect(mode(dir)).toBe(0o700);
  });

  it('narrows an existing tree to its owner, leaving links and what they point at alone', () => {
    const dir = join(root, 'data');
    const outside = join(root, 'outside');
    mkdirSync(join(dir, 'pglite', 'base'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(dir, 'admin-token'), 'nla_x');
    writeFileSync(join(dir, 'pglite', 'base', '1259'), 'x');
    writeFileSync(join(dir, 'pglite', 'run.sh'), 'x');
    writeFileSync(join(outside, 'secret'), 'x');
    chmodSync(join(dir, 'admin-token'), 0o666);
    chmodSync(join(dir, 'pglite', 'base', '1259'), 0o604);
    chmodSync(join(dir, 'pglite', 'run.sh'), 0o755);
    chmodSync(join(dir, 'pglite', 'base'), 0o777);
    chmodSync(join(outside, 'secret'), 0o644);
    chmodSync(outside, 0o755);
    chmodSync(dir, 0o755);
    // A link to a file and one to a folder outside: neither is followed.
    symlinkSync(join(outside, 'secret'), join(dir, 'link-to-file'));
    symlinkSync(outside, join(dir, 'pglite', 'link-to-dir'));

    const first = secureDataDir(dir);
    expect(first.fixed).toBe(6); // data, pglite, base, and the three files
    expect([mode(dir), mode(join(dir, 'pglite', 'base'))]).toEqual([0o700, 0o700]);
    expect(mode(join(dir, 'admin-token'))).toBe(0o600);
    expect(mode(join(dir, 'pglite', 'base', '1259'))).toBe(0o600);
    expect(mode(join(dir, 'pglite', 'run.sh'))).toBe(0o700);
    expect([mode(outside), mode(join(outside, 'secret'))]).toEqual([0o755, 0o644]);
    expect(secureDataDir(dir).fixed).toBe(0);
  });

  it('refuses a filesystem root or the home folder', () => {
    expect(() => secureDataDir('/')).toThrow(/DATA_DIR=\/ is a filesystem root/);
    expect(() => secureDataDir(homedir())).toThrow(/home folder/);
  });
});
