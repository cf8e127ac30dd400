import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import type { ProfileWindow } from './cpuprofile.ts';
import { round } from './stats.ts';

interface Frame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: Frame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** One stretch of the main thread that never went idle: nothing else (timers, sockets) ran meanwhile. */
export interface LongTask {
  /** From the profile's start. */
  atSec: number;
  durationMs: number;
  /** Our own frames (not node_modules, not node:) with the most time inside the stretch, outermost first among equals. */
  ownFrames: { frame: string; ms: number }[];
  /** Where the stretch's samples were, by self time (library and native frames included). */
  selfFrames: { frame: string; ms: number }[];
}

const isIdle = (frame: Frame) => frame.functionName === '(idle)';
const isOwn = (frame: Frame) => frame.url.includes('/src/') && !frame.url.includes('node_modules') && !frame.url.startsWith('node:');

/**
 * The main thread's longest busy stretches in a V8 CPU profile: what holds the event loop (and so
 * every socket's latency) for `minMs` or more at once. A self-time summary hides these: 1 % of
 * CPU spent as one 300 ms block stalls every request, spread thin it stalls none.
 */
export async function longTasks(file: string, root: string, opts: { minMs?: number; top?: number; window?: ProfileWindow } = {}) {
  const minUs = (opts.minMs ?? 50) * 1000;
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const where = (frame: Frame) => {
    const path = frame.url.replace(/^file:\/\//, '');
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
    const place = pkg ? `npm:${pkg}` : path.startsWith('/') ? relative(root, path) : path || '(native)';
    return `${frame.functionName || '(anonymous)'}@${place}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
  };

  const tasks: LongTask[] = [];
  let current: { startUs: number; samples: { id: number; us: number }[] } | null = null;
  const close = () => {
    if (!current) return;
    const totalUs = current.samples.reduce((sum, s) => sum + s.us, 0);
    if (totalUs >= minUs) tasks.push(describe(current.startUs, totalUs, current.samples));
    current = null;
  };
  const describe = (startUs: number, totalUs: number, samples: { id: number; us: number }[]): LongTask => {
    const own = new Map<string, { us: number; depth: number }>();
    const self = new Map<string, number>();
    for (const { id, us } of samples) {
      const leaf = byId.get(id)!.callFrame;
      self.set(where(leaf), (self.get(where(leaf)) ?? 0) + us);
      const seen = new Set<string>();
      const stack: Frame[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!.callFrame);
      stack.reverse().forEach((frame, depth) => {
        if (!isOwn(frame)) return;
        const key = where(frame);
        if (seen.has(key)) return;
        seen.add(key);
        const entry = own.get(key) ?? { us: 0, depth };
        entry.us += us;
        own.set(key, entry);
      });
    }
    const ms = (us: number) => round(us / 1000, 1);
    return {
      atSec: round((startUs - profile.startTime) / 1e6, 1),
      durationMs: ms(totalUs),
      ownFrames: [...own.entries()].sort((a, b) => b[1].us - a[1].us || a[1].depth - b[1].depth).slice(0, 6)
        .map(([frame, e]) => ({ frame, ms: ms(e.us) })),
      selfFrames: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([frame, us]) => ({ frame, ms: ms(us) })),
    };
  };

  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? 0;
    at += profile.timeDeltas[i] ?? 0;
    const inside = !opts.window || (at >= opts.window.startUs && at <= opts.window.endUs);
    if (!inside || isIdle(byId.get(id)!.callFrame)) return close();
    current ??= { startUs: at, samples: [] };
    current.samples.push({ id, us });
  });
  close();

  // Stretches grouped by the own frame that took most of them: which code stalls, how often, how long.
  const groups = new Map<string, { count: number; totalMs: number; maxMs: number }>();
  for (const task of tasks) {
    const key = task.ownFrames[0]?.frame ?? task.selfFrames[0]?.frame ?? '(unknown)';
    const group = groups.get(key) ?? { count: 0, totalMs: 0, maxMs: 0 };
    group.count++;
    group.totalMs = round(group.totalMs + task.durationMs, 1);
    group.maxMs = Math.max(group.maxMs, task.durationMs);
    groups.set(key, group);
  }
  return {
    minMs: minUs / 1000,
    count: tasks.length,
    totalMs: round(tasks.reduce((sum, t) => sum + t.durationMs, 0), 0),
    byCause: [...groups.entries()].sort((a, b) => b[1].totalMs - a[1].totalMs).slice(0, opts.top ?? 15).map(([frame, g]) => ({ frame, ...g })),
    longest: [...tasks].sort((a, b) => b.durationMs - a.durationMs).slice(0, opts.top ?? 15),
  };
}
