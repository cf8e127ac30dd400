/** Public surface of @ninjait/agent: what the CLI, the service wrappers and tests use. */
export { observingWebSocket } from './link/observing-ws.ts';
export { runAgent, type RunAgentOptions, type RunningAgent } from './agent.ts';
export { enrollAgent, type EnrollAgentOptions } from './enroll.ts';
export { DEFAULT_BUFFER_MAX_MB } from './defaults.ts';
export { openOutbox, readOutboxStats, type Outbox, type OutboxStats, type NewRecord, type AppendResult, type OpenOutboxOptions } from './outbox/index.ts';
export { collectSample, collectInventory, createCollector, pickMachineKey, INVENTORY_INTERVAL_MS, type Collector, type CollectorOptions } from './collect/index.ts';
export {
  connectLink,
  requestEnrollment,
  createSender,
  createHeartbeat,
  trpcWsUrl,
  trpcHttpUrl,
  LinkError,
  type AgentApi,
  type AgentLink,
  type LinkErrorCode,
  type Sender,
  type Heartbeat,
} from './link/index.ts';
export { readConfig, writeConfig, resolvePaths, parseEnv, agentConfigSchema, type AgentConfig, type AgentPaths } from './config/index.ts';
export { readServerPins, writeServerPins } from './config/server-pins.ts';
export { runCli } from './cli/cli.ts';
export { EXIT, type CliIo } from './cli/io.ts';
export { createLogger, type Logger, type LogLevel } from './log.ts';
export { RecentErrors } from './util/recent-errors.ts';
export { systemClock, type Clock } from './util/clock.ts';
export { AGENT_RUN_NODE_FLAGS } from './update/node-flags.ts';
