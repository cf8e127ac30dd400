import { parseEnv, type Env } from '../config/env.ts';
import { resolvePaths, type AgentPaths } from '../config/paths.ts';
import { DEFAULT_BUFFER_MAX_MB } from '../defaults.ts';
import { intOption, numberOption } from './args.ts';

export interface CommonSettings {
  env: Env;
  paths: AgentPaths;
  /** Undefined: use the interval from the enrollment. */
  intervalMs: number | undefined;
  bufferMaxMb: number;
}

/** Global flags over environment over defaults. */
export function commonSettings(
  values: { 'data-dir'?: string | undefined; 'interval-ms'?: string | undefined; 'buffer-max-mb'?: string | undefined },
  source: NodeJS.ProcessEnv,
): CommonSettings {
  const env = parseEnv(source);
  return {
    env,
    paths: resolvePaths({ dataDir: values['data-dir'] ?? env.NINJAIT_DATA_DIR, programData: env.ProgramData }),
    intervalMs: intOption('interval-ms', values['interval-ms'], 1_000, 3_600_000) ?? env.NINJAIT_INTERVAL_MS,
    bufferMaxMb: numberOption('buffer-max-mb', values['buffer-max-mb'], 1, 1_048_576) ?? env.AGENT_BUFFER_MAX_MB ?? DEFAULT_BUFFER_MAX_MB,
  };
}

/** A filesystem error as a person would want to read it. */
export function describeFsError(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EACCES' || e?.code === 'EPERM') {
    return `permission denied on ${e.path ?? 'a file'}: run as root/Administrator, or choose a writable --data-dir`;
  }
  return null;
}
