import { describe, expect, it } from 'vitest';
import { toCsv } from './csv.ts';
import { ago, clockTime, duration, elapsed, gigabytes, gigahertz, known, label, mbits, percent } from './format.ts';

describe('readable units', () => {
  it('formats percent, GB and Mbit/s, with a dash for nothing', () => {
    expect(percent(42.345)).toBe('42.3 %');
    expect(percent(null)).toBe('—');
    expect(gigabytes(25.3e9)).toBe('25.3 GB');
    expect(mbits(125_000)).toBe('1.00 Mbit/s');
    expect(mbits(12_500_000)).toBe('100.0 Mbit/s');
    expect(mbits(undefined)).toBe('—');
  });

  it('formats durations and relative times', () => {
    expect(duration(59)).toBe('59 s');
    expect(duration(3_660)).toBe('1 h 1 min');
    expect(duration(90_000)).toBe('1 d 1 h');
    const now = Date.parse('2026-11-25T12:00:00Z');
    expect(ago('2026-11-25T12:00:20Z', now)).toBe('just now');
    expect(ago('2026-11-25T11:58:00Z', now)).toMatch(/2 minutes ago/);
    expect(ago(null, now)).toBe('never');
    expect(label('timed_out')).toBe('Timed out');
  });
});

describe('unknown values', () => {
  it('shows one placeholder for every way a machine says it does not know', () => {
    for (const junk of ['', ' ', '-', '--', 'Default string', 'To be filled by O.E.M.', 'System Serial Number', 'Not Specified', '0', null, undefined]) {
      expect(known(junk)).toBe('—');
    }
    expect(known(' PF3ABCDE ')).toBe('PF3ABCDE');
    expect(gigahertz(0)).toBe('—');
    expect(gigahertz(2.596)).toBe('2.60 GHz');
  });

  it('formats run times and clock times', () => {
    expect(elapsed('2026-11-25T12:00:00Z', '2026-11-25T12:00:00.250Z')).toBe('250 ms');
    expect(elapsed('2026-11-25T12:00:00Z', '2026-11-25T12:00:12.34Z')).toBe('12.3 s');
    expect(elapsed('2026-11-25T12:00:00Z', '2026-11-25T12:03:10Z')).toBe('3 min');
    expect(elapsed(null, '2026-11-25T12:00:00Z')).toBe('—');
    const now = Date.parse('2026-11-25T12:00:00Z');
    expect(clockTime('2026-11-25T11:42:00Z', now)).toMatch(/\d{1,2}:42/);
    expect(clockTime('2026-11-20T11:42:00Z', now)).toMatch(/20/);
  });
});

describe('CSV export', () => {
  it('quotes what needs quoting and defuses formulas', () => {
    const csv = toCsv([{ name: 'a,b "c"', cmd: '=HYPERLINK("x")', n: -3 }], [
      { header: 'name', value: (r) => r.name },
      { header: 'cmd', value: (r) => r.cmd },
      { header: 'n', value: (r) => r.n },
    ]);
    expect(csv).toBe('name,cmd,n\r\n"a,b ""c""","\'=HYPERLINK(""x"")",-3\r\n');
  });
});
