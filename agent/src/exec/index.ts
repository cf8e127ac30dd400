export { startCommandRunner, type CommandRunner } from './runner.ts';
export { openExecutedStore, COMMANDS_DB_FILE, type ExecutedStore } from './executed-store.ts';
export { runCommand, type RunningCommand } from './run-command.ts';
export type { AgentClient, RunnerOptions, AgentMessage, CommandSpec } from './types.ts';
export { streamOpener, type OpenStream } from '../remote/download-streams.ts';
