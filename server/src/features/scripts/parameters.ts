import { AppError } from '../../platform/errors.ts';
import { PARAM_ENV_PREFIX, type ParameterDefinition, type ParameterValues } from './schemas.ts';

const bad = (message: string) => new AppError('BAD_REQUEST', message);

/**
 * Checks a run's values against the version's parameters (types, bounds, required ones) and fills
 * in defaults; returns them as environment variables, so they reach the script as data and never
 * become script text. Unknown names are refused rather than ignored (a typo would silently run
 * with the default).
 */
export function parameterEnv(definitions: readonly ParameterDefinition[], values: ParameterValues): Record<string, string> {
  const byName = new Map(definitions.map((definition) => [definition.name, definition]));
  for (const name of Object.keys(values)) if (!byName.has(name)) throw bad(`The script has no parameter "${name}"`);
  const env: Record<string, string> = {};
  for (const definition of definitions) {
    const value = values[definition.name] ?? definition.default;
    if (value === undefined) {
      if (definition.required) throw bad(`The parameter "${definition.name}" is required`);
      continue;
    }
    if (typeof value !== definition.type) throw bad(`The parameter "${definition.name}" is a ${definition.type}, not a ${typeof value}`);
    if (definition.type === 'number') {
      const number = value as number;
      if (definition.min !== undefined && number < definition.min) throw bad(`The parameter "${definition.name}" is at least ${definition.min}`);
      if (definition.max !== undefined && number > definition.max) throw bad(`The parameter "${definition.name}" is at most ${definition.max}`);
    }
    if (definition.type === 'string' && definition.maxLength !== undefined && (value as string).length > definition.maxLength) {
      throw bad(`The parameter "${definition.name}" is at most ${definition.maxLength} characters`);
    }
    env[`${PARAM_ENV_PREFIX}${definition.name.toUpperCase()}`] = String(value);
  }
  return env;
}
