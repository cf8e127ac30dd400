import { z } from 'zod';
import { LOG_LEVELS } from '../log.ts';
import { intFromEnv, setVariables } from '@ninjait/shared';


/** Every variable the agent reads. `process.env` is read nowhere else. */
export const envSchema = z.object({
  NINJAIT_SERVER: z.url().optional(),
  NINJAIT_TOKEN: z.string().min(1).optional(),
  NINJAIT_DATA_DIR: z.string().min(1).optional(),
  NINJAIT_INTERVAL_MS: intFromEnv(1_000, 3_600_000).optional(),
  AGENT_BUFFER_MAX_MB: z.coerce.number().min(1).max(1_048_576).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).optional(),
  /** Windows only: where machine-wide data lives. */
  ProgramData: z.string().min(1).optional(),
});
export type Env = z.infer<typeof envSchema>;

/** Bad input from the command line, the environment or the config file; the CLI exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses the environment once; a bad value stops the agent with a message naming it. */
export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(setVariables(Object.keys(envSchema.shape), source));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  throw new UsageError(`invalid environment: ${problems.join('; ')}`);
}
