import { describe, expect, it } from 'vitest';
import { conditionSchema, describeCondition, parseWhen, type ScriptCondition } from './conditions.ts';
import { matchesOutput, patternProblem } from './check-pattern.ts';
import { checkFails } from './script-checks.ts';

const ID = '8a3c1d52-5b0e-4c59-9a7f-2f1f3c4d5e6f';
const check = (fields: Partial<ScriptCondition>) => conditionSchema.parse({ kind: 'script', scriptId: ID, exit: { op: '!=', code: 0 }, ...fields }) as ScriptCondition;

describe('script check conditions', () => {
  it('reads the CLI syntax: a name or a quoted name, exit and output tests joined by or', () => {
    expect(parseWhen('script disk-check exit != 0', { everySec: 120 })).toEqual({ kind: 'script', scriptId: 'disk-check', everySec: 120, timeoutSec: 60, exit: { op: '!=', code: 0 } });
    expect(parseWhen(`script "Backup age" exit == 2 or output ~ /STALE|a\\/b/i`)).toMatchObject({
      scriptId: 'Backup age', everySec: 300, exit: { op: '==', code: 2 }, output: { op: '~', pattern: 'STALE|a/b', ignoreCase: true },
    });
    expect(parseWhen(`Script 'x' output !~ /^OK$/`)).toMatchObject({ scriptId: 'x', output: { op: '!~', pattern: '^OK$', ignoreCase: false } });
    for (const bad of ['script', 'script x', 'script x exit > 0', 'script x output = /a/', 'script x exit != 0 and exit != 1', 'script x exit != 0 or exit != 1']) {
      expect(() => parseWhen(bad), bad).toThrow(/script|exit|output/i);
    }
  });

  it('bounds every field: cadence, timeout, exit code, pattern, and needs at least one test', () => {
    expect(check({}).everySec).toBe(300);
    for (const fields of [{ everySec: 10 }, { everySec: 90_000 }, { timeoutSec: 301, everySec: 300 }, { exit: { op: '!=', code: 256 } },
      { exit: undefined }, { exit: undefined, output: { op: '~', pattern: 'x'.repeat(201) } }] as Partial<ScriptCondition>[]) {
      expect(conditionSchema.safeParse({ kind: 'script', scriptId: ID, exit: { op: '!=', code: 0 }, ...fields }).success, JSON.stringify(fields)).toBe(false);
    }
    expect(conditionSchema.safeParse({ kind: 'script', scriptId: 'not-a-uuid', exit: { op: '!=', code: 0 } }).success).toBe(false);
    expect(describeCondition(check({ output: { op: '~', pattern: 'ERR', ignoreCase: true } }))).toBe('script check fails (exit != 0 or output ~ /ERR/i), every 5m');
  });

  it('refuses patterns that can backtrack exponentially, and bounds the rest in time', () => {
    for (const bad of ['(a+)+$', '(a*)*b', '(a|a)*c', '(x{1,9}){2,}', '((ab)*)+', '(a)\\1', '(?<n>a)\\k<n>', '[']) {
      expect(patternProblem(bad), bad).not.toBeNull();
      expect(conditionSchema.safeParse({ kind: 'script', scriptId: ID, output: { op: '~', pattern: bad } }).success, bad).toBe(false);
    }
    for (const good of ['ERROR', '^OK$', 'disk [0-9]+% full', '(ab)+c', '[(+*)]+', 'a\\(b+\\)+', '(?:warn|error): \\d+', 'v\\d+\\.\\d+']) {
      expect(patternProblem(good), good).toBeNull();
    }
    expect(matchesOutput('STATUS: (OK|BAD)', false, 'line\nSTATUS: BAD\n')).toBe(true);
    expect(matchesOutput('status: ok', true, 'STATUS: OK')).toBe(true);
    expect(matchesOutput('^OK$', false, 'NOT OK')).toBe(false);
    // What the static check lets through is still stopped by the time bound (here bypassing the check on purpose).
    expect(matchesOutput('^(a+)+$', false, `${'a'.repeat(40)}b`)).toBe('timeout');
  });

  it('judges a run: a test holding fails it, a timeout fails it, an expired run decides nothing', () => {
    const exitCheck = check({});
    expect(checkFails(exitCheck, { status: 'failed', exitCode: 3, output: '' })).toBe(true);
    expect(checkFails(exitCheck, { status: 'succeeded', exitCode: 0, output: 'fine' })).toBe(false);
    expect(checkFails(exitCheck, { status: 'timed_out', exitCode: null, output: '' })).toBe(true);
    expect(checkFails(exitCheck, { status: 'expired', exitCode: null, output: '' })).toBeNull();
    const mustSayOk = check({ exit: undefined, output: { op: '!~', pattern: '^OK', ignoreCase: false } });
    expect(checkFails(mustSayOk, { status: 'succeeded', exitCode: 0, output: 'OK all good' })).toBe(false);
    expect(checkFails(mustSayOk, { status: 'succeeded', exitCode: 0, output: 'degraded' })).toBe(true);
    const either = check({ output: { op: '~', pattern: 'STALE', ignoreCase: false } });
    expect(checkFails(either, { status: 'succeeded', exitCode: 0, output: 'backup STALE' })).toBe(true);
    expect(checkFails(either, { status: 'failed', exitCode: 1, output: 'fresh' })).toBe(true);
    expect(checkFails(either, { status: 'succeeded', exitCode: 0, output: 'fresh' })).toBe(false);
  });
});
