import pino, { type Logger } from 'pino';

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * JSON logs. `run` writes them to stdout (a service manager collects them); commands that
 * print human text (`enroll`, `status`) send them to stderr so the two never interleave.
 * Synchronous writes: the agent logs little, and nothing is lost when it exits.
 */
export function createLogger(level: LogLevel, fd: 1 | 2 = 1): Logger {
  return pino({ level, base: { name: 'ninjait-agent', pid: process.pid } }, pino.destination({ dest: fd, sync: true }));
}
