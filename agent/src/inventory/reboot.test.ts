import { describe, expect, it } from 'vitest';
import type { PatchResult, RebootPlan } from '@ninjait/shared';
import { decideReboot, defaultAllowReboot, MIN_REBOOT_NOTICE_MIN, rebootCommand, rebootMessage, withRebootNote } from './reboot.ts';

const result = (status: PatchResult['status']): PatchResult => ({ key: `apt:${status}`, status, code: status === 'failed' ? 100 : 0, message: 'Now at 2' });
const plan = (policy: RebootPlan['policy'], noticeMin = 15): RebootPlan => ({ policy, noticeMin });

describe('the reboot decision after a deployment', () => {
  const installed = [result('installed')];
  const pending = [result('installed'), result('reboot_pending')];

  it('always: restarts after anything was installed, with the notice', () => {
    expect(decideReboot(plan('always', 10), installed, false, true)).toEqual({ reboot: true, noticeMin: 10, reason: 'reboot scheduled in 10 min' });
    // Nothing installed: nothing a restart would finish.
    expect(decideReboot(plan('always'), [result('failed')], false, true)).toEqual({ reboot: false, reason: null });
  });

  it('if_required: restarts only when a restart is pending (a result, or the OS flag)', () => {
    expect(decideReboot(plan('if_required'), installed, false, true)).toEqual({ reboot: false, reason: null });
    expect(decideReboot(plan('if_required'), pending, false, true)).toMatchObject({ reboot: true, noticeMin: 15 });
    expect(decideReboot(plan('if_required'), installed, true, true)).toMatchObject({ reboot: true });
  });

  it('never: reports the pending restart only', () => {
    expect(decideReboot(plan('never'), pending, false, true)).toEqual({ reboot: false, reason: 'a restart is pending; the reboot policy leaves it to a person' });
    expect(decideReboot(plan('never'), installed, false, true)).toEqual({ reboot: false, reason: null });
  });

  it('an agent not allowed to restart (NINJAIT_ALLOW_REBOOT=0) or an older server without a plan never restarts', () => {
    expect(decideReboot(plan('always'), pending, false, false)).toMatchObject({ reboot: false, reason: expect.stringContaining('NINJAIT_ALLOW_REBOOT') });
    expect(decideReboot(undefined, pending, true, true)).toEqual({ reboot: false, reason: 'a restart is pending' });
  });

  it('a notice of 0 still leaves a minute to report the result', () => {
    expect(decideReboot(plan('always', 0), installed, false, true)).toMatchObject({ reboot: true, noticeMin: MIN_REBOOT_NOTICE_MIN });
  });

  it('the note ends the messages of the patches that went in, not of those that failed', () => {
    const noted = withRebootNote([result('installed'), result('failed')], 'reboot scheduled in 5 min');
    expect(noted.map((item) => item.message)).toEqual(['Now at 2; reboot scheduled in 5 min', 'Now at 2']);
    expect(withRebootNote([{ ...result('installed'), message: 'x'.repeat(2_000) }], 'note')[0]!.message).toHaveLength(2_000);
  });
});

describe('the restart command per OS', () => {
  it('Linux (systemd) and macOS: shutdown -r +N with our warning', () => {
    for (const platform of ['linux', 'darwin'] as const) {
      expect(rebootCommand(platform, 15)).toEqual({ file: 'shutdown', args: ['-r', '+15', rebootMessage(15)] });
    }
    expect(rebootMessage(1)).toBe('NinjaIT installed updates. This computer restarts in 1 minute: please save your work.');
  });

  it('Windows: shutdown.exe /r /t seconds, recorded as a planned hotfix restart, with the warning', () => {
    expect(rebootCommand('win32', 5)).toEqual({ file: 'shutdown.exe', args: ['/r', '/t', '300', '/d', 'p:2:17', '/c', rebootMessage(5)] });
    // /c takes at most 512 characters.
    expect(rebootMessage(1_440).length).toBeLessThan(512);
  });

  it('never shorter than a minute, whole minutes only', () => {
    expect(rebootCommand('linux', 0).args[1]).toBe('+1');
    expect(rebootCommand('win32', 2.7).args[2]).toBe('120');
  });
});

describe('who may restart by default (NINJAIT_ALLOW_REBOOT unset)', () => {
  it('installed agents (root, SYSTEM) may; a person\'s account may not', () => {
    expect(defaultAllowReboot({ platform: 'linux', uid: 0, username: 'root' })).toBe(true);
    expect(defaultAllowReboot({ platform: 'darwin', uid: 0, username: 'root' })).toBe(true);
    expect(defaultAllowReboot({ platform: 'linux', uid: 1000, username: 'dev' })).toBe(false);
    expect(defaultAllowReboot({ platform: 'win32', uid: null, username: 'SYSTEM' })).toBe(true);
    expect(defaultAllowReboot({ platform: 'win32', uid: null, username: 'WORKSTATION7$' })).toBe(true);
    expect(defaultAllowReboot({ platform: 'win32', uid: null, username: 'alice' })).toBe(false);
  });
});
