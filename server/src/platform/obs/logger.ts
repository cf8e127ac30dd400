import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths that may carry secrets are never written; see the security suite's log scan. */
const REDACT = [
  'password', '*.password', 'token', '*.token', 'deviceSecret', '*.deviceSecret',
  'sessionId', '*.sessionId', 'req.headers.authorization', 'req.headers.cookie', 'connectionParams',
];

/** `destination` defaults to standard output; the server passes one that also ships warnings (features/logs/log-shipper.ts). */
export function createLogger(level: string, name = 'ninjait', destination?: DestinationStream): Logger {
  return pino({ name, level, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}
