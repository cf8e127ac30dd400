export { parseEnv, envSchema, ConfigError, type Env } from './env.ts';
