import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './scripts/test-sequencer.ts';

const ALL_TESTS = '{shared,server,agent,test,bench,web,scripts}/**/*.test.ts';
/** Starts the built products as child processes and drives them for minutes: run alone, as end-to-end files. */
const BENCH_SMOKE = 'bench/src/smoke.test.ts';
const FAULT_SUITE = 'test/faults/**';

export default defineConfig({
  test: {
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for something that will happen (a page to update, a row to land). Its own default
    // of one second is less than a busy CI machine takes to answer one click, and failed a console test.
    expect: { poll: { timeout: 15_000 } },
    // Three files at a time on two cores: the files' own CPU (npm test -- --record-durations) is
    // about half of two workers' time, the rest they wait on servers, agents, browsers and timers,
    // so a third file fills those waits. The side lane's phases (faults, installers) have slack.
    maxWorkers: 3,
    sequence: { sequencer: LongestFirstSequencer },
    // Each file's CPU seconds, when the runner records them (npm test -- --record-durations).
    setupFiles: process.env.NINJAIT_TEST_CPU_FILE ? ['test/runner/cpu-recorder.ts'] : [],
    projects: [
      {
        // Unit and in-process integration files share a worker's loaded modules (isolate: false): each
        // file otherwise spends most of its time importing zod, kysely, pg and the shared schemas afresh.
        // Their module state is keyed by the instance that owns it, and a file that changes process
        // state (cwd, PATH, process.env) restores it, so nothing carries over from one file to the next.
        extends: true,
        test: {
          name: 'shared-modules',
          include: [ALL_TESTS],
          exclude: ['**/node_modules/**', '**/dist/**', 'test/**', BENCH_SMOKE],
          isolate: false,
        },
      },
      {
        // End-to-end, security and web files under test/ start the built server and agents as child
        // processes; what they import is small, so a fresh module graph per file costs them little.
        extends: true,
        test: {
          name: 'isolated',
          include: ['test/**/*.test.ts', BENCH_SMOKE],
          // The fault suite has a phase and a config of its own (test/faults/vitest.config.ts: one file at a
          // time). Excluded here, in the project: vitest applies a command line's --exclude to the root
          // config only, so the main phase used to run every fault file a second time beside its own tests.
          exclude: ['**/node_modules/**', '**/dist/**', FAULT_SUITE],
        },
      },
    ],
  },
});
