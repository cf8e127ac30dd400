import { readFileSync } from 'node:fs';

interface CpuLine { file: string; self: number; children: number }

/**
 * The files that cost the most CPU in a recorded run (see cpu-recorder.ts), beside their wall
 * seconds: what to make cheaper first when the suite's time is CPU-bound on two cores.
 */
export function cpuReport(cpuFile: string, wallSeconds: Record<string, number>, top = 30): string {
  let lines: CpuLine[];
  try {
    lines = readFileSync(cpuFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as CpuLine);
  } catch {
    return 'no CPU figures were recorded';
  }
  const byFile = new Map<string, { self: number; children: number }>();
  for (const line of lines) {
    const sum = byFile.get(line.file) ?? { self: 0, children: 0 };
    sum.self += line.self;
    sum.children += line.children;
    byFile.set(line.file, sum);
  }
  const rows = [...byFile].map(([file, cpu]) => ({ file, ...cpu, total: cpu.self + cpu.children })).sort((a, b) => b.total - a.total);
  const total = rows.reduce((sum, row) => sum + row.total, 0);
  const fixed = (n: number) => n.toFixed(1).padStart(7);
  return [
    `CPU seconds of ${rows.length} files: ${total.toFixed(0)} (own + reaped children); the ${Math.min(top, rows.length)} dearest:`,
    `    cpu     own  children    wall  file`,
    ...rows.slice(0, top).map((row) => `${fixed(row.total)} ${fixed(row.self)} ${fixed(row.children)} ${fixed(wallSeconds[row.file] ?? 0)}  ${row.file}`),
  ].join('\n');
}
