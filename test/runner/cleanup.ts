import { say } from './processes.ts';

/** What the runner must undo, recorded as it goes: peers it started, services it brought up, its folders. */
export interface Cleanup {
  /** Registers an undo step; steps run newest first. */
  add(what: string, undo: () => Promise<void>): void;
  /** Runs every step once, whatever ends the run (success, failure, a signal); a failing step does not stop the others. */
  run(): Promise<void>;
}

export function createCleanup(): Cleanup {
  const steps: { what: string; undo: () => Promise<void> }[] = [];
  let running: Promise<void> | null = null;
  return {
    add(what, undo) {
      steps.push({ what, undo });
    },
    run() {
      running ??= (async () => {
        for (const { what, undo } of steps.reverse()) {
          say(`cleanup: ${what}`);
          await undo().catch((error: unknown) => say(`cleanup: ${what} failed: ${(error as Error).message}`));
        }
      })();
      return running;
    },
  };
}
