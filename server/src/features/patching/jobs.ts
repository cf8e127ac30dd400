import type { Job } from '../../platform/scheduler/scheduler.ts';
import type { PatchingService } from './service.ts';

/** Due patch deployments are enqueued (and closed windows expired) this often. */
const PATCH_TICK_MS = 5_000;
const PATCH_AUTO_APPROVE_MS = 10 * 60_000;

/** Deployments promoted when due, and auto-approval rules applied: one instance at a time each. */
export function patchingJobs(patching: Pick<PatchingService, 'tick' | 'autoApprove'>): Job[] {
  return [
    { name: 'patch-deployments', everyMs: PATCH_TICK_MS, exclusive: true, run: () => patching.tick() },
    { name: 'patch-auto-approve', everyMs: PATCH_AUTO_APPROVE_MS, exclusive: true, run: () => patching.autoApprove() },
  ];
}
