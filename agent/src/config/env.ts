import { z } from 'zod';
import { LOG_LEVELS } from '../log.ts';
import { intFromEnv, setVariables, UsageError } from '@ninjait/shared';

/** Every variable the agent reads. `process.env` is read nowhere else. */
export const envSchema = z.object({
  NINJAIT_SERVER: z.url().optional(),
  NINJAIT_TOKEN: z.string().min(1).optional(),
  NINJAIT_DATA_DIR: z.string().min(1).optional(),
  NINJAIT_INTERVAL_MS: intFromEnv(1_000, 3_600_000).optional(),
  /** 1: allow plain http:// to a server beyond loopback (as --insecure does). */
  NINJAIT_INSECURE: z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true').optional(),
  AGENT_BUFFER_MAX_MB: z.coerce.number().min(1).max(1_048_576).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).optional(),
  /** 0: terminals are piped shells even where a pseudo-terminal is available. */
  NINJAIT_PTY: z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true').optional(),
  /** Folders remote file access must stay inside, separated like PATH (`:`, `;` on Windows); unset: anywhere the agent's account may go. */
  NINJAIT_FILE_ROOTS: z.string().min(1).max(8192).optional(),
  /**
   * 1: the agent may restart this machine when a deployment's reboot policy asks; 0: never, the
   * pending restart is only reported. Unset: allowed when running as root or SYSTEM (installed agents).
   */
  NINJAIT_ALLOW_REBOOT: z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true').optional(),
  /** Windows only: where machine-wide data lives. */
  ProgramData: z.string().min(1).optional(),
});
export type Env = z.infer<typeof envSchema>;

/** Bad input from the command line, the environment or the config file: `shared` owns the class. */
export { UsageError };

/** Parses the environment once; a bad value stops the agent with a message naming it. */
export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(setVariables(Object.keys(envSchema.shape), source));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  throw new UsageError(`invalid environment: ${problems.join('; ')}`);
}
