import { z } from 'zod';

/** An integer read from an environment variable, within bounds. */
export const intFromEnv = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * The variables `names` lists that are set in `source`; an empty value counts as unset, so
 * `FOO= cmd` falls back to the default instead of failing validation.
 */
export function setVariables(names: readonly string[], source: Record<string, string | undefined>): Record<string, string> {
  const set: Record<string, string> = {};
  for (const name of names) {
    const value = source[name];
    if (value !== undefined && value !== '') set[name] = value;
  }
  return set;
}
