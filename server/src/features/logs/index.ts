// What other features use of logs: the agent's heartbeat errors as log documents.
export { agentErrorLogs } from './agent-errors.ts';
export { logJobs } from './jobs.ts';
