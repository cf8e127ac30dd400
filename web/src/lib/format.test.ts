import { describe, expect, it } from 'vitest';
import { toCsv } from './csv.ts';
import { ago, duration, gigabytes, label, mbits, percent } from './format.ts';

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
