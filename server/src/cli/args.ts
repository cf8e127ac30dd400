import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '@ninjait/shared';

/** Commands throw it for bad arguments: `shared` owns the class (the agent throws the same one). */
export { UsageError };

export interface Command {
  usage: string;
  run(argv: string[]): Promise<number | void>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with `--help` on every command and usage errors that say what is wrong. */
export function parse<O extends Options>(argv: string[], options: O, usage: string, allowPositionals = false) {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
    if ((parsed.values as Record<string, unknown>).help) {
      process.stdout.write(`${usage.trim()}\n`);
      process.exit(0);
    }
    return parsed;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${usage.trim()}`);
  }
}

export const clientOptions = {
  server: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const CLIENT_USAGE = `
Connection:
  --server URL      server to talk to (default http://127.0.0.1:$PORT, or $NINJAIT_SERVER)
  --data-dir DIR    the server's DATA_DIR, holding the local admin credential (default $DATA_DIR or ./data)
  --json            print JSON instead of a table`;
