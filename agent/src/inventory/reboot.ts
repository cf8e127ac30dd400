import type { PatchResult, RebootPlan } from '@ninjait/shared';

/** Shortest notice: the agent must still report the deployment's result before the machine goes down. */
export const MIN_REBOOT_NOTICE_MIN = 1;

export type RebootDecision =
  | { reboot: true; noticeMin: number; reason: string }
  | { reboot: false; reason: string | null };

/**
 * Whether to restart after a deployment. `always`: when anything was installed (a run where every
 * patch failed changed nothing a restart would finish); `if_required`: only when a restart is
 * pending; `never`: never, the pending restart is only reported. No plan (an older server) and a
 * machine where restarts are not allowed (NINJAIT_ALLOW_REBOOT) never restart either.
 */
export function decideReboot(plan: RebootPlan | undefined, results: readonly PatchResult[], rebootPending: boolean, allowed: boolean): RebootDecision {
  const pending = rebootPending || results.some((result) => result.status === 'reboot_pending');
  const installed = results.some((result) => result.status !== 'failed');
  const wanted = plan?.policy === 'always' ? installed : plan?.policy === 'if_required' ? pending : false;
  if (!wanted) {
    if (!pending) return { reboot: false, reason: null };
    return { reboot: false, reason: plan?.policy === 'never' ? 'a restart is pending; the reboot policy leaves it to a person' : 'a restart is pending' };
  }
  if (!allowed) {
    const why = pending ? 'a restart is pending' : 'the reboot policy asks for a restart';
    return { reboot: false, reason: `${why}; this agent is not allowed to restart the machine (NINJAIT_ALLOW_REBOOT)` };
  }
  const noticeMin = Math.max(MIN_REBOOT_NOTICE_MIN, plan!.noticeMin);
  return { reboot: true, noticeMin, reason: `reboot scheduled in ${noticeMin} min` };
}

/** What logged-in users read: our words, never data from the server or a package. */
export const rebootMessage = (noticeMin: number) =>
  `NinjaIT installed updates. This computer restarts in ${noticeMin} minute${noticeMin === 1 ? '' : 's'}: please save your work.`;

/**
 * The command that restarts the machine after `noticeMin` minutes, warning logged-in users:
 * systemd's and BSD's `shutdown -r +N <message>`, Windows' `shutdown.exe /r /t <seconds> /c <message>`
 * recorded as a planned restart for a hotfix (/d p:2:17).
 */
export function rebootCommand(platform: NodeJS.Platform, noticeMin: number): { file: string; args: string[] } {
  const minutes = Math.max(MIN_REBOOT_NOTICE_MIN, Math.trunc(noticeMin));
  if (platform === 'win32') return { file: 'shutdown.exe', args: ['/r', '/t', String(minutes * 60), '/d', 'p:2:17', '/c', rebootMessage(minutes)] };
  return { file: 'shutdown', args: ['-r', `+${minutes}`, rebootMessage(minutes)] };
}

/** Appends what happened about the restart to each result's message, within the schema's bound. */
export function withRebootNote(results: readonly PatchResult[], note: string | null): PatchResult[] {
  if (!note) return [...results];
  return results.map((result) => result.status === 'failed' ? result : { ...result, message: `${result.message}; ${note}`.slice(0, 2_000) });
}

/**
 * The default for NINJAIT_ALLOW_REBOOT: an installed agent (root, or Windows' SYSTEM account, as
 * the packages install it) may restart its machine; one running as a person's account (the quick
 * start's local agent, a developer's `run`) may not.
 */
export function defaultAllowReboot(who: { platform: NodeJS.Platform; uid: number | null; username: string }): boolean {
  if (who.platform === 'win32') return who.username.toUpperCase() === 'SYSTEM' || who.username.endsWith('$');
  return who.uid === 0;
}
