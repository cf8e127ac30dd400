import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PatchResult, PatchWorkItem, RebootPlan } from '@ninjait/shared';
import { createLogger } from '../log.ts';
import { startPatchRunner } from './patch-runner.ts';
import { rebootMessage } from './reboot.ts';

/**
 * The real patch runner with stand-in `softwareupdate` and `shutdown` executables: PATH holds only
 * their folder while a deployment runs, so the machine's own shutdown (tests run as root) is out of reach.
 */
describe('the patch runner applies the reboot policy after a deployment', () => {
  let dir: string;
  let savedPath: string | undefined;

  const standIn = (name: string, body: string) => {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
  };
  const argvOf = (name: string) => {
    const file = join(dir, `${name}.argv`);
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(0, -1) : null;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ninjait-reboot-'));
    writeFileSync(join(dir, 'install-output.txt'), readFileSync(join(import.meta.dirname, 'fixtures', 'softwareupdate-install.txt')));
    // Each records its arguments, one a line; softwareupdate then prints a recorded install of Numbers.
    standIn('softwareupdate', `for a in "$@"; do printf '%s\\n' "$a"; done > '${dir}/softwareupdate.argv'\nexec /bin/cat '${dir}/install-output.txt'`);
    standIn('shutdown', `for a in "$@"; do printf '%s\\n' "$a"; done > '${dir}/shutdown.argv'\nexit "$(/bin/cat '${dir}/shutdown.exit' 2>/dev/null || echo 0)"`);
    savedPath = process.env.PATH;
  });

  afterEach(() => {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });

  const numbers = { key: 'softwareupdate:Numbers-14.0', name: 'Numbers', version: '14.0', source: 'softwareupdate' } as const;

  async function deploy(reboot: RebootPlan | undefined, allowReboot: boolean, patches: PatchWorkItem['patches'] = [numbers]) {
    const work: PatchWorkItem = { id: '5b0c8f8e-3a52-4d8e-9d8b-7f6b1d2c3e4f', reboot, patches };
    const progress: string[] = [];
    const results: PatchResult[][] = [];
    let offered = false;
    const runner = startPatchRunner({
      log: createLogger('silent'), afterRun: async () => undefined, pollMs: 3_600_000, startDelayMs: 3_600_000,
      allowReboot, platform: 'linux',
      api: {
        work: async () => (offered ? [] : (offered = true, [work])),
        started: async () => ({ run: true }),
        progress: async (_id, lines) => progress.push(...lines),
        result: async (_id, sent) => results.push(sent),
      },
    });
    process.env.PATH = dir;
    try {
      await runner.check();
    } finally {
      process.env.PATH = savedPath;
      await runner.stop();
    }
    return { progress, results };
  }

  it('always: installs, then calls shutdown -r +N with our warning, and says so in the progress and the result', async () => {
    const { progress, results } = await deploy({ policy: 'always', noticeMin: 5 }, true);
    expect(argvOf('softwareupdate')).toEqual(['--install', 'Numbers-14.0', '--agree-to-license']);
    expect(argvOf('shutdown')).toEqual(['-r', '+5', rebootMessage(5)]);
    expect(progress).toContain('Done with Numbers');
    expect(progress).toContain('Restart scheduled in 5 min (reboot policy: always)');
    expect(results).toEqual([[{ key: 'softwareupdate:Numbers-14.0', status: 'installed', code: 0, message: 'Done with Numbers; reboot scheduled in 5 min' }]]);
  });

  it('if_required without a pending restart, never, an agent not allowed to restart, an older server: no shutdown', async () => {
    for (const [plan, allowed, message] of [
      [{ policy: 'if_required', noticeMin: 5 }, true, 'Done with Numbers'],
      [{ policy: 'never', noticeMin: 5 }, true, 'Done with Numbers'],
      [{ policy: 'always', noticeMin: 5 }, false,
        'Done with Numbers; the reboot policy asks for a restart; this agent is not allowed to restart the machine (NINJAIT_ALLOW_REBOOT)'],
      [undefined, true, 'Done with Numbers'],
    ] as const) {
      const { results } = await deploy(plan, allowed);
      expect(results).toEqual([[expect.objectContaining({ status: 'installed', message })]]);
    }
    expect(argvOf('softwareupdate')).not.toBeNull();
    expect(argvOf('shutdown')).toBeNull();
  });

  it('if_required: a restart the install asked for is scheduled', async () => {
    writeFileSync(join(dir, 'install-output.txt'), readFileSync(join(import.meta.dirname, 'fixtures', 'softwareupdate-install-restart.txt')));
    const sonoma = { key: 'softwareupdate:macOS Sonoma 14.4.1-23E224', name: 'macOS Sonoma 14.4.1', version: '14.4.1', source: 'softwareupdate' } as const;
    const { results } = await deploy({ policy: 'if_required', noticeMin: 30 }, true, [sonoma]);
    expect(argvOf('softwareupdate')).toEqual(['--install', 'macOS Sonoma 14.4.1-23E224', '--agree-to-license']);
    expect(argvOf('shutdown')).toEqual(['-r', '+30', rebootMessage(30)]);
    expect(results).toEqual([[expect.objectContaining({ status: 'reboot_pending', message: 'Done with macOS Sonoma 14.4.1; a restart completes it; reboot scheduled in 30 min' })]]);
  });

  it('a restart that cannot be scheduled is reported, the install still counts', async () => {
    writeFileSync(join(dir, 'shutdown.exit'), '1\n');
    const { progress, results } = await deploy({ policy: 'always', noticeMin: 1 }, true);
    expect(argvOf('shutdown')).toEqual(['-r', '+1', rebootMessage(1)]);
    expect(progress.some((line) => line.startsWith('Restart could not be scheduled'))).toBe(true);
    expect(results[0]?.[0]).toMatchObject({ status: 'installed', message: expect.stringContaining('scheduling it failed') });
  });
});
