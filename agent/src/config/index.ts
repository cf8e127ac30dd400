export { parseEnv, envSchema, UsageError, type Env } from './env.ts';
export { resolvePaths, CONFIG_FILE, OUTBOX_FILE, type AgentPaths } from './paths.ts';
export { readConfig, writeConfig, agentConfigSchema, type AgentConfig } from './file.ts';
