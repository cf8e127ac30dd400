import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Above this a reading is junk, not a clock (the schema's own limit is higher). */
const MAX_PLAUSIBLE_GHZ = 20;
/** /proc/cpuinfo of a machine with hundreds of cores is a few hundred KB: read no more than this. */
const MAX_CPUINFO_BYTES = 4 * 1024 * 1024;

/** The mean of the "cpu MHz" lines of /proc/cpuinfo, in GHz; 0 when there are none. */
export function cpuinfoGHz(text: string): number {
  const values = [...text.matchAll(/^cpu MHz\s*:\s*([\d.]+)\s*$/gm)].map((match) => Number(match[1])).filter((mhz) => mhz > 0 && Number.isFinite(mhz));
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length / 1000 : 0;
}

function readCpuinfo(): string {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    return text.length > MAX_CPUINFO_BYTES ? text.slice(0, MAX_CPUINFO_BYTES) : text;
  } catch {
    return '';
  }
}

const plausible = (ghz: unknown): ghz is number => typeof ghz === 'number' && Number.isFinite(ghz) && ghz > 0 && ghz <= MAX_PLAUSIBLE_GHZ;

/**
 * The CPU's clock in GHz, rounded to two decimals, or 0 when nothing says. systeminformation reads
 * the brand string ("@ 2.40GHz") and cpufreq, which virtual machines often lack; the kernel's
 * /proc/cpuinfo (Linux) and Node's os.cpus() (MHz) still know the clock there.
 */
export function cpuSpeedGHz(reported: { speed?: unknown; speedMax?: unknown } | null, sources: { cpuinfo?: () => string; osMHz?: () => number[] } = {}): number {
  const osMHz = (sources.osMHz ?? (() => cpus().map((cpu) => cpu.speed)))().filter((mhz) => mhz > 0);
  const candidates = [
    reported?.speed,
    reported?.speedMax,
    osMHz.length > 0 ? osMHz.reduce((a, b) => a + b, 0) / osMHz.length / 1000 : 0,
    process.platform === 'linux' || sources.cpuinfo ? cpuinfoGHz((sources.cpuinfo ?? readCpuinfo)()) : 0,
  ];
  const found = candidates.find(plausible);
  return found === undefined ? 0 : Math.round(found * 100) / 100;
}
