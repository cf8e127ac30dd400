import { z } from 'zod';

const seconds = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * Variables the launcher reads (it is its own program, started before the agent; the agent
 * reads its own in config/env.ts). Defaults: check every 6 h, first check 2 min after start,
 * a new version has 5 min to connect, a rolled-back version is retried after a day.
 */
export const launcherEnvSchema = z.object({
  NINJAIT_DATA_DIR: z.string().min(1).optional(),
  /** As the agent reads it: allow plain http:// beyond loopback (update checks follow the agent). */
  NINJAIT_INSECURE: z.enum(['0', '1', 'true', 'false']).optional(),
  NINJAIT_UPDATE: z.enum(['on', 'off']).default('on'),
  NINJAIT_UPDATE_KEY: z.string().min(1).optional(),
  NINJAIT_UPDATE_CHECK_SEC: seconds(1, 7 * 86_400).default(6 * 3600),
  NINJAIT_UPDATE_FIRST_CHECK_SEC: seconds(0, 86_400).default(120),
  NINJAIT_UPDATE_CONFIRM_SEC: seconds(5, 86_400).default(300),
  NINJAIT_UPDATE_CONFIRM_POLL_SEC: seconds(1, 3600).default(5),
  NINJAIT_UPDATE_RETRY_FAILED_SEC: seconds(0, 30 * 86_400).default(86_400),
});
export type LauncherEnv = z.infer<typeof launcherEnvSchema>;

export function parseLauncherEnv(source: NodeJS.ProcessEnv): LauncherEnv {
  const known = Object.fromEntries(Object.keys(launcherEnvSchema.shape)
    .filter((key) => source[key] !== undefined && source[key] !== '')
    .map((key) => [key, source[key]]));
  const parsed = launcherEnvSchema.safeParse(known);
  if (parsed.success) return parsed.data;
  throw new Error(`invalid environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
}
