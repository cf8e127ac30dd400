import type { Logger } from '../obs/logger.ts';

export interface Periodic {
  stop(): Promise<void>;
}

/**
 * Runs `task` every `intervalMs`, never two at once; a failure is logged and the next run goes
 * ahead. `phaseMs` delays the first run (and so every run) by that much: jobs started together
 * with intervals that divide one another (5 s, 10 s, 30 s, 60 s) otherwise fire on the same tick
 * forever, and their query building and result handling became one busy stretch of the event
 * loop that every agent's ack and every terminal keystroke waited out.
 */
export function every(intervalMs: number, name: string, log: Logger, task: () => Promise<unknown>, phaseMs = 0): Periodic {
  let current: Promise<unknown> | null = null;
  let timer: NodeJS.Timeout | null = null;
  const tick = () => {
    if (current) return;
    current = task()
      .catch((error: unknown) => log.warn({ err: error, job: name }, 'periodic job failed'))
      .finally(() => {
        current = null;
      });
  };
  const repeat = () => {
    timer = setInterval(tick, intervalMs);
    timer.unref();
  };
  if (phaseMs > 0) {
    timer = setTimeout(() => {
      tick();
      repeat();
    }, phaseMs);
    timer.unref();
  } else {
    repeat();
  }
  return {
    async stop() {
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
