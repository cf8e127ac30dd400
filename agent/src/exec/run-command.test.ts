import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from './run-command.ts';
import type { Chunk } from './chunk-batcher.ts';
import type { CommandSpec } from './types.ts';

const posix = process.platform !== 'win32';
let scriptDir: string;
beforeAll(async () => {
  scriptDir = await mkdtemp(join(tmpdir(), 'ninjait-exec-'));
});
afterAll(() => rm(scriptDir, { recursive: true, force: true }));

function run(spec: Partial<CommandSpec> & { script: string }, outputIntervalMs = 20) {
  const chunks: Chunk[] = [];
  const events: string[] = [];
  const command = runCommand({ id: `c${Math.random().toString(16).slice(2)}`, shell: 'sh', interpreter: null, timeoutSec: 30, ...spec }, {
    scriptDir, platform: process.platform, outputIntervalMs,
    started: async () => void events.push('started'),
    output: async (batch) => {
      events.push('output');
      chunks.push(...batch);
    },
    onError: (error) => {
      throw error;
    },
  });
  return { command, chunks, events, text: () => chunks.map((c) => c.data).join('') };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!posix)('runCommand (real processes)', () => {
  it('numbers chunks from 0 without gaps, reports start first and the exit code', async () => {
    const { command, chunks, events, text } = run({ script: 'i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done; echo oops >&2; exit 5' });
    expect(await command.done).toEqual({ status: 'failed', exitCode: 5, error: null });
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    expect(events[0]).toBe('started');
    expect(text()).toContain('line 199\n');
    expect(chunks.filter((c) => c.stream === 'stderr').map((c) => c.data).join('')).toBe('oops\n');
  });

  it('passes a saved script\'s parameters as environment variables: a hostile value stays data', async () => {
    const hostile = 'x"; echo INJECTED; #$(echo SUBST)';
    const { command, text } = run({ script: 'printf "%s|" "$NINJAIT_PARAM_PATH"; printf "%s" "$NINJAIT_COMMAND_ID" | wc -c', env: { NINJAIT_PARAM_PATH: hostile, NINJAIT_COMMAND_ID: 'spoofed' } });
    expect(await command.done).toMatchObject({ status: 'succeeded', exitCode: 0 });
    const [value, idLength] = text().split('|');
    expect(value).toBe(hostile);
    expect(text()).not.toContain('INJECTED\n');
    // The command's own id is not overridable by a parameter.
    expect(Number(idLength)).toBeGreaterThan('spoofed'.length);
  });

  it('kills the process group on timeout, grandchildren included', async () => {
    const { command, text } = run({ script: 'sh -c "sleep 30 & echo gc=\\$!; wait" & wait', timeoutSec: 1 });
    const result = await command.done;
    expect(result.status).toBe('timed_out');
    const pid = Number(/gc=(\d+)/.exec(text())?.[1]);
    expect(pid).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stat = alive(pid) ? await import('node:fs/promises').then((fs) => fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')) : '';
    expect(!alive(pid) || / Z /.test(stat)).toBe(true);
  });

  it('honours cancel, even before the process started', async () => {
    const early = run({ script: 'echo should-not-print; sleep 5' });
    early.command.cancel();
    expect((await early.command.done).status).toBe('cancelled');
    const late = run({ script: 'echo up; sleep 30' });
    // Cancel once the process is demonstrably running (its first line arrived), not after a guessed delay:
    // under a loaded CI machine the shell may not have printed within any fixed time.
    for (const deadline = Date.now() + 15_000; !late.text().includes('up\n') && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    late.command.cancel();
    const started = Date.now();
    expect((await late.command.done).status).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(late.text()).toBe('up\n');
  });

  it('fails cleanly when the interpreter does not exist', async () => {
    const { command } = run({ script: 'print(1)', interpreter: 'ninjait-no-such-interpreter' as never });
    const result = await command.done;
    expect(result).toMatchObject({ status: 'failed', exitCode: null });
    expect(result.error).toMatch(/Could not start ninjait-no-such-interpreter/);
  });

  it('keeps multi-byte characters whole across reads', async () => {
    const { command, text } = run({ script: 'i=0; while [ $i -lt 3000 ]; do printf "é€"; i=$((i+1)); done' });
    await command.done;
    expect(text()).toBe('é€'.repeat(3000));
  });
});
