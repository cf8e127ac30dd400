import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './scripts/test-sequencer.ts';

export default defineConfig({
  test: {
    include: ['{shared,server,agent,test,bench,web,scripts}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration and end-to-end tests start real processes; two cores do not like more.
    maxWorkers: 2,
    sequence: { sequencer: LongestFirstSequencer },
  },
});
