import { z } from 'zod';
import { DEFAULT_SAMPLE_INTERVAL_MS, DEFAULT_SERVER_PORT } from '@ninjait/shared';

const DEFAULT_RATE_LIMIT_MAX = 100;
const DEFAULT_RATE_LIMIT_WINDOW_SEC = 15 * 60;

const optionalUrl = z.url().optional();
const intFromEnv = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every variable the server reads. `process.env` is read nowhere else. */
export const envSchema = z.object({
  PORT: intFromEnv(0, 65_535).default(DEFAULT_SERVER_PORT),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** PostgreSQL; PGlite in DATA_DIR when unset. */
  DATABASE_URL: optionalUrl,
  /** Redis or Dragonfly; in-process cache when unset. */
  REDIS_URL: optionalUrl,
  /** The interval agents are told to report at. */
  AGENT_INTERVAL_MS: intFromEnv(1_000, 3_600_000).default(DEFAULT_SAMPLE_INTERVAL_MS),
  RATE_LIMIT_MAX: intFromEnv(1, 1_000_000).default(DEFAULT_RATE_LIMIT_MAX),
  RATE_LIMIT_WINDOW_SEC: intFromEnv(1, 86_400).default(DEFAULT_RATE_LIMIT_WINDOW_SEC),
  /** How long pushes wait to be committed together; 0 commits as soon as the previous commit ends. */
  INGEST_GROUP_COMMIT_MS: intFromEnv(0, 1_000).default(2),
  DRAIN_BATCH_ROWS: intFromEnv(1, 100_000).default(5_000),
  DRAIN_POLL_MS: intFromEnv(10, 60_000).default(250),
  /** Identifies this instance in drainer leases and logs. */
  INSTANCE_ID: z.string().min(1).max(128).optional(),
});

export type Env = z.infer<typeof envSchema>;

/** A bad variable stops the server with a message that names it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const known = Object.fromEntries(
    Object.keys(envSchema.shape)
      .filter((key) => source[key] !== undefined && source[key] !== '')
      .map((key) => [key, source[key]]),
  );
  const parsed = envSchema.safeParse(known);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.join('.');
    return `${name}=${JSON.stringify(source[name] ?? '')}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
}
