import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { findIdPaths, withIdAt, type Filling, type IdNaming, type ZodLike } from './id-paths.ts';

/** The walker alone, on a schema shaped like the router's: what it finds, and that what it builds parses. */

const KINDS: Record<string, string> = { deviceId: 'device', deviceIds: 'devices', scriptId: 'script', siteId: 'site', tagId: 'tag' };
const naming: IdNaming = {
  isId: (name, schema) => unwrapFormat(schema) === 'uuid' || /^(id|ids|.+Id|.+Ids)$/.test(name),
  kindOf: (name) => KINDS[name],
  recordKeyKind: (name) => (name === 'values' ? 'field' : undefined),
  namedByKind: ['site', 'group', 'tag'],
};
function unwrapFormat(schema: ZodLike): string | undefined {
  const def = schema._zod.def;
  return def.innerType ? unwrapFormat(def.innerType) : def.element ? unwrapFormat(def.element) : def.format;
}

const input = z.object({
  deviceId: z.uuid(),
  name: z.string().min(1),
  condition: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('metric'), threshold: z.number() }).strict(),
    z.object({ kind: z.literal('script'), scriptId: z.uuid(), exit: z.object({ code: z.number() }).optional() }).strict()
      .refine((c) => c.exit !== undefined, 'tests the exit code'),
  ]),
  scope: z.object({ kind: z.enum(['organization', 'site', 'tag']), id: z.uuid().nullable().default(null) }).strict()
    .refine((s) => (s.kind === 'organization') === (s.id === null)).optional(),
  target: z.object({ kind: z.enum(['devices', 'site']), id: z.uuid().optional(), deviceIds: z.array(z.uuid()).optional() }).strict()
    .refine((t) => (t.kind === 'devices') === (t.deviceIds !== undefined)).optional(),
  filter: z.object({ conditions: z.array(z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('tag'), op: z.literal('has'), tagId: z.uuid() }).strict(),
    z.object({ kind: z.literal('os'), value: z.string() }).strict(),
  ])) }).optional(),
  values: z.record(z.uuid(), z.union([z.string(), z.number()])).optional(),
}).strict();
const shape = input.shape as unknown as Record<string, ZodLike>;

const own = { device: 'd0000000-0000-4000-8000-000000000001', script: 'd0000000-0000-4000-8000-000000000002', site: 'd0000000-0000-4000-8000-000000000003',
  tag: 'd0000000-0000-4000-8000-000000000004', field: 'd0000000-0000-4000-8000-000000000005' } as Record<string, string>;
const fill: Filling = {
  naming,
  ownId: (kind) => (kind === 'devices' ? [own.device] : own[kind]),
  sampleAt: (label) => (label === 'condition<script>' ? { kind: 'script', exit: { code: 0 } } : undefined),
  sampleNamed: (name) => (name === 'name' ? 'sample' : undefined),
};
const base = { deviceId: own.device, name: 'sample', condition: { kind: 'metric', threshold: 1 } };
const FOREIGN = 'f0000000-0000-4000-8000-000000000009';

describe('ids at any depth of an input', () => {
  const paths = findIdPaths(shape, naming);

  it('finds top-level and nested ids, one per kind a scope or target names, and record keys', () => {
    expect(paths.map((p) => [p.label, p.kind])).toEqual([
      ['deviceId', 'device'],
      ['condition<script>.scriptId', 'script'],
      ['scope<site>.id', 'site'],
      ['scope<tag>.id', 'tag'],
      ['target<site>.id', 'site'],
      ['target<devices>.deviceIds', 'devices'],
      ['filter.conditions[]<tag>.tagId', 'tag'],
      ['values{id}', 'field'],
    ]);
  });

  it('builds, for each, an input the schema accepts with the given id in that place', () => {
    for (const path of paths) {
      const leaf = path.kind === 'devices' ? [FOREIGN] : FOREIGN;
      const built = withIdAt(shape, base, path, leaf, fill);
      expect(input.safeParse(built).success, `${path.label}: ${JSON.stringify(built)}`).toBe(true);
      expect(JSON.stringify(built), path.label).toContain(FOREIGN);
    }
    expect(withIdAt(shape, base, paths.find((p) => p.label === 'scope<tag>.id')!, FOREIGN, fill).scope).toEqual({ kind: 'tag', id: FOREIGN });
    expect(withIdAt(shape, base, paths.find((p) => p.label === 'values{id}')!, FOREIGN, fill).values).toEqual({ [FOREIGN]: 'sample' });
  });
});
