import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { round } from './stats.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  function: string;
  location: string;
  selfPercent: number;
  selfMs: number;
}

/**
 * The server's main-thread profile among those written after `sinceMs`: the largest file,
 * since tsx's loader thread writes a second, mostly idle profile beside it.
 */
export async function newestProfile(dir: string, sinceMs: number): Promise<string | null> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  let best: { file: string; size: number } | null = null;
  for (const file of files) {
    const info = await stat(join(dir, file));
    if (info.mtimeMs >= sinceMs && (!best || info.size > best.size)) best = { file: join(dir, file), size: info.size };
  }
  return best?.file ?? null;
}

/** A span of a profile in V8's clock: microseconds of CLOCK_MONOTONIC, as `process.hrtime` reads it. */
export interface ProfileWindow {
  startUs: number;
  endUs: number;
}

/** Now on the clock V8 stamps profile samples with (Linux: CLOCK_MONOTONIC, like `process.hrtime`). */
export const profileClockUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * Self time per function and per package/file, from a V8 CPU profile: where the server
 * spends its CPU, without opening DevTools. With `window`, only samples taken within it count.
 */
export async function summarizeProfile(file: string, root: string, top = 25, window?: ProfileWindow) {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const deltaUs = profile.timeDeltas[i] ?? 0;
    at += deltaUs;
    if (!window || (at >= window.startUs && at <= window.endUs)) selfUs.set(id, (selfUs.get(id) ?? 0) + deltaUs);
  });
  const totalUs = window
    ? Math.min(window.endUs, profile.endTime) - Math.max(window.startUs, profile.startTime)
    : profile.endTime - profile.startTime;
  const where = (url: string) => {
    const path = url.replace(/^file:\/\//, '');
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1];
    return pkg ? `npm:${pkg}` : path.startsWith('/') ? relative(root, path) : path || '(native)';
  };
  const fns = new Map<string, ProfileEntry & { us: number }>();
  const files = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const location = `${where(frame.url)}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    const key = `${frame.functionName}@${location}`;
    const entry = fns.get(key) ?? { function: frame.functionName || '(anonymous)', location, selfPercent: 0, selfMs: 0, us: 0 };
    entry.us += us;
    fns.set(key, entry);
    const group = where(frame.url);
    files.set(group, (files.get(group) ?? 0) + us);
  }
  const pct = (us: number) => round((us / totalUs) * 100, 1);
  return {
    file,
    durationSec: round(totalUs / 1e6, 1),
    topFunctions: [...fns.values()].sort((a, b) => b.us - a.us).slice(0, top)
      .map(({ us, ...e }) => ({ ...e, selfPercent: pct(us), selfMs: round(us / 1000, 0) })),
    byFile: [...files.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([location, us]) => ({ location, selfPercent: pct(us) })),
  };
}
