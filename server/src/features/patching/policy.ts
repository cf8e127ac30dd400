import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { MAX_REBOOT_NOTICE_MIN, REBOOT_POLICIES, UPDATE_CLASSIFICATIONS, UPDATE_SEVERITIES } from '@ninjait/shared';

/** A deployment asked for "now" may start within this long; after that it fails as not reached. */
export const IMMEDIATE_WINDOW_MIN = 4 * 60;
/** The agent reads the same list from the work it is offered: `shared` owns it. */
export { REBOOT_POLICIES };

const namePattern = z.string().trim().min(1).max(200).regex(/^[A-Za-z0-9+._:@*?-]+$/, 'Letters, digits, + . _ : @ - and the wildcards * ?');
const validTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};
const validCron = (expression: string) => {
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC' });
    return expression.trim().split(/\s+/).length === 5;
  } catch {
    return false;
  }
};

/** What an organization's patch policy says; every field bounded. */
export const patchPolicySchema = z.object({
  name: z.string().trim().min(1).max(255).default('Default patch policy'),
  approveClassifications: z.array(z.enum(UPDATE_CLASSIFICATIONS)).max(UPDATE_CLASSIFICATIONS.length).default([]),
  approveSeverities: z.array(z.enum(UPDATE_SEVERITIES)).max(UPDATE_SEVERITIES.length).default([]),
  approveNamePatterns: z.array(namePattern).max(100).default([]),
  excludeNamePatterns: z.array(namePattern).max(100).default([]),
  /** Approved updates are deployed in the next window without a person asking. */
  autoApprove: z.boolean().default(false),
  /** An update is approved by the rules only once it has been pending this many days. */
  deferralDays: z.number().int().min(0).max(365).default(0),
  /** Five-field cron for the window's start; null: no window (deployments run when asked). */
  windowCron: z.string().trim().max(100).refine(validCron, 'A five-field cron expression, e.g. "0 2 * * 6"').nullable().default(null),
  windowTz: z.string().trim().max(64).refine(validTimeZone, 'An IANA time zone, e.g. Europe/Paris').default('UTC'),
  windowDurationMin: z.number().int().min(1).max(1_440).default(120),
  reboot: z.enum(REBOOT_POLICIES).default('if_required'),
  rebootNoticeMin: z.number().int().min(0).max(MAX_REBOOT_NOTICE_MIN).default(15),
}).strict();
export type PatchPolicy = z.infer<typeof patchPolicySchema>;

export const DEFAULT_POLICY: PatchPolicy = patchPolicySchema.parse({});

const globToRegExp = (glob: string) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\:@-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');

/** Whether a pending update is approved: by a person (by name), or by the policy's rules once deferred long enough. */
export function isApproved(
  update: { name: string; classification: string; severity: string; firstSeenAt: Date },
  policy: PatchPolicy, approvedNames: ReadonlySet<string>, now: Date,
): boolean {
  if (policy.excludeNamePatterns.some((glob) => globToRegExp(glob).test(update.name))) return false;
  if (approvedNames.has(update.name.toLowerCase())) return true;
  const byRule = (policy.approveClassifications as string[]).includes(update.classification)
    || (policy.approveSeverities as string[]).includes(update.severity)
    || policy.approveNamePatterns.some((glob) => globToRegExp(glob).test(update.name));
  return byRule && now.getTime() - update.firstSeenAt.getTime() >= policy.deferralDays * 86_400_000;
}

/**
 * When a deployment may run: the window open now (started less than its duration ago), else the
 * next one; without a window, from now for IMMEDIATE_WINDOW_MIN.
 */
export function nextWindow(policy: Pick<PatchPolicy, 'windowCron' | 'windowTz' | 'windowDurationMin'>, now: Date): { start: Date; end: Date } {
  if (!policy.windowCron) return { start: now, end: new Date(now.getTime() + IMMEDIATE_WINDOW_MIN * 60_000) };
  const durationMs = policy.windowDurationMin * 60_000;
  const expression = CronExpressionParser.parse(policy.windowCron, { currentDate: now, tz: policy.windowTz });
  const previous = expression.prev().toDate();
  if (previous.getTime() + durationMs > now.getTime()) return { start: now, end: new Date(previous.getTime() + durationMs) };
  const next = CronExpressionParser.parse(policy.windowCron, { currentDate: now, tz: policy.windowTz }).next().toDate();
  return { start: next, end: new Date(next.getTime() + durationMs) };
}
