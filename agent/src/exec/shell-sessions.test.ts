import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { createShellSessions, MAX_SHELL_SESSIONS } from './shell-sessions.ts';
import type { AgentClient } from './types.ts';

type Report = { sessionId: string; event: { type: string; reason?: string } };

/** Real shells (piped, so the test needs no pseudo-terminal); the server side is a recorder of what the agent reports. */
function sessionsWithRecorder() {
  const reports: Report[] = [];
  const client = { agent: { shellOutput: { mutate: async (input: Report) => void reports.push(input) } } } as unknown as AgentClient;
  const controller = new AbortController();
  const shells = createShellSessions({ client, log: pino({ level: 'silent' }), platform: process.platform, outputIntervalMs: 10, signal: controller.signal, usePty: false });
  return { shells, reports, stop: () => controller.abort() };
}

const until = async (check: () => boolean, timeoutMs = 15_000) => {
  for (const deadline = Date.now() + timeoutMs; !check();) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe.skipIf(process.platform === 'win32')('shell sessions', () => {
  it(`refuses a terminal beyond ${MAX_SHELL_SESSIONS} open on the device, saying why, and opens one again once another closed`, async () => {
    const { shells, reports, stop } = sessionsWithRecorder();
    try {
      const open = (sessionId: string) => shells.handle({ type: 'shell-open', sessionId, shell: 'sh', idleTimeoutSec: 60, cols: 80, rows: 24 } as never);
      for (let i = 0; i < MAX_SHELL_SESSIONS; i++) open(`s${i}`);
      open('one-too-many');
      expect(shells.size).toBe(MAX_SHELL_SESSIONS);
      await until(() => reports.some((r) => r.sessionId === 'one-too-many'));
      expect(reports.find((r) => r.sessionId === 'one-too-many')!.event).toMatchObject({ type: 'closed', reason: expect.stringMatching(/already open/) });

      shells.handle({ type: 'shell-close', sessionId: 's0' } as never);
      await until(() => shells.size === MAX_SHELL_SESSIONS - 1);
      open('after-a-close');
      expect(shells.size).toBe(MAX_SHELL_SESSIONS);
    } finally {
      stop();
      await until(() => shells.size === 0);
    }
  }, 60_000);
});
