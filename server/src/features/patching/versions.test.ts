import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { compareDebian, compareDotted, compareRpm } from './versions.ts';

const debCases: Array<[string, string, number]> = [
  ['1.0', '1.0', 0], ['1.0', '1.1', -1], ['1.0~rc1', '1.0', -1], ['1.0', '1.0+b1', -1], ['2:1.0', '1:9.9', 1],
  ['3.0.11-1~deb12u2', '3.0.13-1~deb12u1', -1], ['1.10.1-3', '1.10.1-3+deb12u1', -1], ['1.0-1', '1.0-1ubuntu1', -1],
  ['1.0a', '1.0', 1], ['1.0~~', '1.0~', -1], ['010', '10', 0], ['1.2.3', '1.2.10', -1], ['5.2.15-2+b8', '5.2.15-2+b13', -1],
];

describe('Debian versions', () => {
  it.each(debCases)('%s vs %s', (a, b, expected) => {
    expect(compareDebian(a, b)).toBe(expected);
    expect(compareDebian(b, a)).toBe(-expected || 0);
  });
  it('agrees with dpkg --compare-versions where dpkg is installed', () => {
    try {
      execFileSync('dpkg', ['--version'], { stdio: 'ignore' });
    } catch {
      console.log('skipped: dpkg is not installed here');
      return;
    }
    for (const [a, b, expected] of debCases) {
      const op = expected < 0 ? 'lt' : expected > 0 ? 'gt' : 'eq';
      expect(() => execFileSync('dpkg', ['--compare-versions', a, op, b])).not.toThrow();
    }
  });
});

describe('RPM versions (rpmvercmp)', () => {
  it.each([
    ['1.0', '1.0', 0], ['1.0', '1.0.1', -1], ['1:3.0.7-27.el9', '1:3.0.7-28.el9_4', -1], ['2.0', '1:1.0', -1],
    ['1.0~rc1', '1.0', -1], ['1.0^git1', '1.0', 1], ['1.0a', '1.0.1', -1], ['1.05', '1.5', 0], ['3.0.7', '3.0.7-28.el9', 0],
    ['fc4', 'fc.4', 0], ['1b', '1a', 1],
  ] as Array<[string, string, number]>)('%s vs %s', (a, b, expected) => {
    expect(compareRpm(a, b)).toBe(expected);
    expect(compareRpm(b, a)).toBe(-expected || 0);
  });
});

describe('dotted versions (Windows, macOS)', () => {
  it.each([
    ['124.0.6367.61', '124.0.6367.201', -1], ['10.0', '9.9.9', 1], ['23.01.00.0', '23.1', 0], ['2.0-beta', '2.0', -1],
  ] as Array<[string, string, number]>)('%s vs %s', (a, b, expected) => {
    expect(compareDotted(a, b)).toBe(expected);
  });
});
