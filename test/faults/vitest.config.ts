import { defineConfig } from 'vitest/config';

/**
 * The fault matrix: real processes and private stores that the tests kill and restart. Files run
 * one at a time (each one already runs a server, agents and engines on two cores), and only after
 * the main suite has finished (see the root package.json "test" script).
 */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/faults/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
