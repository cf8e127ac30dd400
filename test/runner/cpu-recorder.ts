import { appendFileSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';

/**
 * A vitest setup file, loaded only when the runner records (`--record-durations`): appends each
 * test file's CPU seconds to NINJAIT_TEST_CPU_FILE. Wall seconds say which file is long; CPU says
 * which one costs the two cores, and so the suite's time (a file waiting on an outage costs
 * little, a file starting five servers costs much). Counted: the worker's own CPU and that of
 * the children it reaped meanwhile (servers, agents, browsers, and what they reaped in turn).
 */
const out = process.env.NINJAIT_TEST_CPU_FILE;

/** utime + stime and cutime + cstime of this process, in seconds (Linux /proc; 100 ticks a second). */
function cpuSeconds(): { self: number; children: number } | null {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command's closing parenthesis, from field 3 (state): utime is field 14.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return { self: (fields[11]! + fields[12]!) / 100, children: (fields[13]! + fields[14]!) / 100 };
  } catch {
    return null;
  }
}

if (out) {
  let start: ReturnType<typeof cpuSeconds> = null;
  beforeAll(() => {
    start = cpuSeconds();
  });
  afterAll(() => {
    const end = cpuSeconds();
    const file = expect.getState().testPath;
    if (!start || !end || !file) return;
    const self = end.self - start.self;
    const children = end.children - start.children;
    appendFileSync(out, `${JSON.stringify({ file: relative(process.cwd(), file), self: Math.round(self * 10) / 10, children: Math.round(children * 10) / 10 })}\n`);
  });
}
