import { z } from 'zod';
import { appRouterShape } from '../router.ts';

type JsonSchema = Record<string, unknown> & { type?: string; properties?: Record<string, JsonSchema>; items?: JsonSchema; required?: string[] };
interface ProcedureDef { _def: { type: 'query' | 'mutation' | 'subscription'; inputs: z.ZodType[] } }

const procedures = (appRouterShape as unknown as { _def: { procedures: Record<string, ProcedureDef> } })._def.procedures;

/** The zod input schema of a procedure of the router, or null when it takes none. */
export function inputSchemaOf(path: string): z.ZodType | null {
  const procedure = procedures[path];
  if (!procedure) throw new Error(`REST route names a procedure the router does not have: ${path}`);
  return procedure._def.inputs[0] ?? null;
}

export const procedureType = (path: string) => procedures[path]?._def.type;

/**
 * The JSON Schema of what a caller sends, from the zod schema the procedure validates with.
 * Transforms (text made storable) have no JSON form: their input side is described.
 */
export function inputJsonSchema(path: string): JsonSchema | null {
  const schema = inputSchemaOf(path);
  if (!schema) return null;
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' }) as JsonSchema;
  delete json.$schema;
  return json;
}

export type { JsonSchema };
