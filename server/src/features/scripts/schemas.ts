import { z } from 'zod';
import { MAX_SCRIPT_BYTES } from '../commands/index.ts';

export const LANGUAGES = ['shell', 'powershell', 'python'] as const;
export type Language = (typeof LANGUAGES)[number];
export const TARGET_OS = ['linux', 'macos', 'windows'] as const;
export type TargetOs = (typeof TARGET_OS)[number];
export const PARAMETER_TYPES = ['string', 'number', 'boolean'] as const;
export const TARGET_KINDS = ['devices', 'organization', 'site', 'group', 'tag'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const MAX_PARAMETERS = 20;
export const MAX_STRING_PARAMETER = 4096;
/** Devices a run or schedule may name one by one. */
export const MAX_TARGET_DEVICES = 1000;
/** Parameters reach the script as `NINJAIT_PARAM_<NAME>` environment variables. */
export const PARAM_ENV_PREFIX = 'NINJAIT_PARAM_';

const paramName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'A parameter name is letters, digits and _ (at most 64), not starting with a digit');
const stringValue = z.string().max(MAX_STRING_PARAMETER).refine((value) => !value.includes('\u0000'), 'A value cannot contain a NUL character');
const numberValue = z.number().finite().min(-1e15).max(1e15);

/** One typed parameter of a script: a string, number or boolean, optionally with a default and bounds. */
export const parameterDefinition = z.discriminatedUnion('type', [
  z.object({ name: paramName, type: z.literal('string'), label: z.string().max(200).optional(), required: z.boolean().default(false),
    default: stringValue.optional(), maxLength: z.number().int().min(1).max(MAX_STRING_PARAMETER).optional() }).strict(),
  z.object({ name: paramName, type: z.literal('number'), label: z.string().max(200).optional(), required: z.boolean().default(false),
    default: numberValue.optional(), min: numberValue.optional(), max: numberValue.optional() }).strict(),
  z.object({ name: paramName, type: z.literal('boolean'), label: z.string().max(200).optional(), required: z.boolean().default(false),
    default: z.boolean().optional() }).strict(),
]);
export type ParameterDefinition = z.infer<typeof parameterDefinition>;

export const parameterList = z.array(parameterDefinition).max(MAX_PARAMETERS)
  .refine((list) => new Set(list.map((p) => p.name.toUpperCase())).size === list.length, 'Parameter names must differ (ignoring case)');

/** Values for a run, by parameter name. */
export const parameterValues = z.record(paramName, z.union([stringValue, numberValue, z.boolean()]))
  .refine((values) => Object.keys(values).length <= MAX_PARAMETERS, `at most ${MAX_PARAMETERS} parameters`);
export type ParameterValues = z.infer<typeof parameterValues>;

// Characters, as a parse guard; the byte limit is checked by the commands' assertScript.
const body = z.string().min(1, 'The script is empty').max(MAX_SCRIPT_BYTES * 4);

export const scriptFields = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).default(''),
  language: z.enum(LANGUAGES),
  targetOs: z.array(z.enum(TARGET_OS)).min(1).max(TARGET_OS.length),
  body,
  parameters: parameterList.default([]),
}).strict();
export type ScriptFields = z.infer<typeof scriptFields>;

/** An edit: any field; a new body or parameter list makes a new version. */
export const scriptChanges = z.object({
  id: z.uuid(),
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
  targetOs: z.array(z.enum(TARGET_OS)).min(1).max(TARGET_OS.length).optional(),
  body: body.optional(),
  parameters: parameterList.optional(),
}).strict();

/** Where a run or schedule goes: named devices, or every approved device of the organization, a site, a group or a tag. */
export const runTarget = z.object({
  kind: z.enum(TARGET_KINDS),
  id: z.uuid().optional(),
  deviceIds: z.array(z.uuid()).min(1).max(MAX_TARGET_DEVICES).optional(),
}).strict()
  .refine((t) => (t.kind === 'devices') === (t.deviceIds !== undefined), { message: 'deviceIds go with kind "devices", and only with it' })
  .refine((t) => ['site', 'group', 'tag'].includes(t.kind) === (t.id !== undefined), { message: 'a site, group or tag target names its id; others do not' });
export type RunTarget = z.infer<typeof runTarget>;

export const runOptions = {
  parameters: parameterValues.default({}),
  timeoutSec: z.number().int().min(1).max(86_400).default(300),
  concurrency: z.number().int().min(1).max(1_000).default(10),
};

export const scheduleFields = z.object({
  scriptId: z.uuid(),
  name: z.string().trim().min(1).max(200),
  cron: z.string().trim().min(1).max(200),
  timezone: z.string().trim().min(1).max(64),
  target: runTarget,
  parameters: parameterValues.default({}),
  enabled: z.boolean().default(true),
}).strict();
export type ScheduleFields = z.infer<typeof scheduleFields>;
