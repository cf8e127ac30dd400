import type { Logger } from '../obs/logger.ts';

export interface Periodic {
  stop(): Promise<void>;
}

/** Runs `task` every `intervalMs`, never two at once; a failure is logged and the next run goes ahead. */
export function every(intervalMs: number, name: string, log: Logger, task: () => Promise<unknown>): Periodic {
  let current: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (current) return;
    current = task()
      .catch((error: unknown) => log.warn({ err: error, job: name }, 'periodic job failed'))
      .finally(() => {
        current = null;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
