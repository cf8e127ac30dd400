import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../config/env.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export const GLOBAL_OPTIONS = {
  'data-dir': { type: 'string' },
  'interval-ms': { type: 'string' },
  'buffer-max-mb': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

export const COMMAND_OPTIONS = {
  enroll: {
    server: { type: 'string' },
    token: { type: 'string' },
    pin: { type: 'string', multiple: true },
    'ca-file': { type: 'string' },
    insecure: { type: 'boolean' },
  },
  run: { insecure: { type: 'boolean' } },
  status: { json: { type: 'boolean' } },
} as const satisfies Record<string, Options>;
export type Command = keyof typeof COMMAND_OPTIONS;

const ALL = { ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS.enroll, ...COMMAND_OPTIONS.run, ...COMMAND_OPTIONS.status, version: { type: 'boolean', short: 'v' } } as const satisfies Options;

/** The subcommand: the first positional, wherever global options sit around it. */
export function findCommand(argv: string[]): string | undefined {
  const { tokens } = parseArgs({ args: argv, options: ALL, strict: false, allowPositionals: true, tokens: true });
  return tokens.find((t) => t.kind === 'positional')?.value;
}

/** Parses argv strictly against `options` (global + one command's); unknown options are usage errors. */
export function parseCommand<O extends Options>(options: O, argv: string[]) {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    return values;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError((err as Error).message);
  }
}

/** An integer option within bounds, or undefined when absent. */
export function intOption(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  return n;
}

/** A number option within bounds, or undefined when absent. */
export function numberOption(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max} (got "${raw}")`);
  return n;
}
