import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Longest files first, so the two workers end together. Vitest orders by the durations in its own
 * cache, which a fresh clone (CI) does not have: it then starts the biggest files first, and a
 * short file with a long end-to-end wait (alerts, the bench smoke) started last left one worker
 * idle for over a minute at the end of the run. The committed test/runner/durations.json (written
 * by `npm test -- --record-durations`) stands in for the cache; stale figures only cost order.
 * It lives here, beside vitest.config.ts, because the root's config may not import the test package.
 */
const DURATIONS_FILE = new URL('../test/runner/durations.json', import.meta.url);

/** A file the durations do not name yet: assumed as long as a typical integration file. */
const UNKNOWN_SECONDS = 5;

function committedDurations(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(DURATIONS_FILE, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

/**
 * Isolated files first, then each non-isolated project's files together. A worker that ran a
 * non-isolated file keeps its loaded modules only if the next file in the queue belongs to the same
 * project; interleaved, each of them would start a fresh worker and import everything again. The
 * non-isolated files are the short ones, so they also fill the end of the run evenly.
 */
function groupByIsolation(ordered: TestSpecification[]): TestSpecification[] {
  const isolated = ordered.filter((spec) => spec.project.config.isolate !== false);
  const shared = ordered.filter((spec) => spec.project.config.isolate === false);
  const projects = [...new Set(shared.map((spec) => spec.project.name))];
  return [...isolated, ...projects.flatMap((name) => shared.filter((spec) => spec.project.name === name))];
}

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return groupByIsolation(await this.longestFirst(files));
  }

  private async longestFirst(files: TestSpecification[]): Promise<TestSpecification[]> {
    const durations = committedDurations();
    if (Object.keys(durations).length === 0) return super.sort(files);
    const root = this.ctx.config.root;
    const cache = this.ctx.cache;
    const expected = (spec: TestSpecification) => {
      const path = relative(root, spec.moduleId);
      const cached = cache.getFileTestResults(`${spec.project.name}:${path}`)?.duration;
      return typeof cached === 'number' ? cached / 1000 : durations[path] ?? UNKNOWN_SECONDS;
    };
    const seconds = new Map(files.map((spec) => [spec, expected(spec)]));
    return [...files].sort((a, b) => seconds.get(b)! - seconds.get(a)!);
  }
}
