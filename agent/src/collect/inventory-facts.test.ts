import { describe, expect, it } from 'vitest';
import { primaryAddress } from './addresses.ts';
import { cpuSpeedGHz, cpuinfoGHz } from './cpu-speed.ts';

describe('CPU clock', () => {
  const none = { cpuinfo: () => '', osMHz: () => [0, 0] };

  it('prefers what systeminformation read, then the maximum, then the OS, then /proc/cpuinfo', () => {
    expect(cpuSpeedGHz({ speed: 2.4, speedMax: 3.1 }, none)).toBe(2.4);
    expect(cpuSpeedGHz({ speed: 0, speedMax: 3.1 }, none)).toBe(3.1);
    expect(cpuSpeedGHz({ speed: 0 }, { cpuinfo: () => '', osMHz: () => [2_000, 3_000] })).toBe(2.5);
    // A virtual machine: no cpufreq, no "@ x GHz" in the brand, os.cpus() says 0; the kernel still knows.
    expect(cpuSpeedGHz({ speed: 0, speedMax: 0 }, { osMHz: () => [0, 0], cpuinfo: () => 'model name\t: AMD EPYC\ncpu MHz\t\t: 2596.102\n\ncpu MHz\t\t: 2596.102\n' })).toBe(2.6);
  });

  it('says 0 (unknown) rather than a junk number', () => {
    expect(cpuSpeedGHz(null, none)).toBe(0);
    expect(cpuSpeedGHz({ speed: Number.NaN, speedMax: -1 }, none)).toBe(0);
    expect(cpuSpeedGHz({ speed: 5_000 }, none)).toBe(0);
    expect(cpuinfoGHz('cpu MHz : nope\ncpu MHz : 0\n')).toBe(0);
  });
});

describe('primary address', () => {
  it('is the default-route interface, IPv4 first, never loopback or link-local', () => {
    expect(primaryAddress([
      { ip4: '127.0.0.1', internal: true },
      { ip4: '172.17.0.1', default: false },
      { ip4: '192.0.2.20', ip6: '2001:db8::20', default: true },
    ])).toBe('192.0.2.20');
    expect(primaryAddress([{ ip4: '', ip6: '2001:db8::5', default: true }, { ip4: '192.0.2.9' }])).toBe('2001:db8::5');
    expect(primaryAddress([{ ip4: '169.254.1.1' }, { ip6: 'fe80::1' }, { ip4: '198.51.100.3' }])).toBe('198.51.100.3');
  });

  it('is undefined when nothing fits, and never passes junk along', () => {
    expect(primaryAddress([])).toBeUndefined();
    expect(primaryAddress([{ ip4: '127.0.0.1', internal: true }, { ip4: 'not-an-ip; rm -rf /', default: true }])).toBeUndefined();
  });
});
