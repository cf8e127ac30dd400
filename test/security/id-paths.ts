/**
 * Where ids sit in a procedure's zod input, at any depth, and how to build an input that carries
 * one at such a place. A rule's script check (`condition<script>.scriptId`), a group's filter
 * (`filter.conditions[]<site>.siteId`), a scope (`scope<tag>.id`) or values keyed by field id
 * (`values{id}`) name resources as surely as a top-level `deviceId` does, so the isolation matrix
 * must reach them too. Knows zod's shapes only; what a name means comes from the caller (support.ts).
 */

/** The parts of a zod v4 schema the security suite reads. */
export interface ZodLike {
  _zod: {
    def: {
      type: string; format?: string; innerType?: ZodLike; in?: ZodLike; element?: ZodLike; shape?: Record<string, ZodLike>;
      options?: ZodLike[]; discriminator?: string; keyType?: ZodLike; valueType?: ZodLike; entries?: Record<string, string>; values?: unknown[];
    };
  };
  shape?: Record<string, ZodLike>;
  safeParse(value: unknown): { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } };
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'pipe', 'readonly']);

export function unwrap(schema: ZodLike): ZodLike {
  let current = schema;
  while (WRAPPERS.has(current._zod.def.type)) {
    const inner = current._zod.def.type === 'pipe' ? current._zod.def.in : current._zod.def.innerType;
    if (!inner) break;
    current = inner;
  }
  return current;
}

export const shapeOf = (schema: ZodLike): Record<string, ZodLike> => schema.shape ?? schema._zod.def.shape ?? {};

/**
 * One step from an input towards an id: into a field (with the `kind` beside it set so the field
 * is allowed, e.g. a script target's `deviceIds` only with kind "devices"), into an array's element,
 * into one option of a union, or into a record's key (the key is the id).
 */
export type Step =
  | { to: 'field'; name: string; kindBeside?: string }
  | { to: 'element' }
  | { to: 'option'; index: number; tag: string }
  | { to: 'key' };

export interface IdPath {
  steps: Step[];
  /** Readable and stable: `deviceId`, `condition<script>.scriptId`, `scope<site>.id`, `values{id}`. */
  label: string;
  /** The resource the id names; undefined when the dictionaries do not say (a construction failure). */
  kind: string | undefined;
}

/** What the caller knows about names: which are ids and what they name. */
export interface IdNaming {
  isId(name: string, schema: ZodLike): boolean;
  /** The kind of an id field by its name (`path` the procedure's). */
  kindOf(name: string): string | undefined;
  /** The kind of the ids that key a record field of this name (`values` keyed by custom field id). */
  recordKeyKind(name: string): string | undefined;
  /** Kinds an `id` may name when a `kind` enum beside it says which (scopes and script targets). */
  namedByKind: readonly string[];
}

export function labelOf(steps: readonly Step[]): string {
  let label = '';
  for (const step of steps) {
    switch (step.to) {
      case 'field': label += `${step.kindBeside ? `<${step.kindBeside}>` : ''}${label ? '.' : ''}${step.name}`; break;
      case 'element': label += '[]'; break;
      case 'option': label += `<${step.tag}>`; break;
      case 'key': label += '{id}'; break;
    }
  }
  return label;
}

const enumValues = (schema: ZodLike | undefined): string[] => {
  const inner = schema ? unwrap(schema) : undefined;
  return inner?._zod.def.type === 'enum' ? Object.values(inner._zod.def.entries ?? {}) : [];
};

const optionTag = (option: ZodLike, discriminator: string | undefined, index: number): string => {
  const literal = discriminator ? unwrap(shapeOf(unwrap(option))[discriminator] ?? option)._zod.def.values?.[0] : undefined;
  return typeof literal === 'string' ? literal : String(index);
};

/** Every id in an object input's shape, top-level fields first, nested ones (objects, arrays, unions, records) after. */
export function findIdPaths(shape: Record<string, ZodLike>, naming: IdNaming): IdPath[] {
  const found: IdPath[] = [];
  const add = (steps: Step[], kind: string | undefined) => found.push({ steps, label: labelOf(steps), kind });
  const walkObject = (fields: Record<string, ZodLike>, steps: Step[]) => {
    const kinds = enumValues(fields.kind);
    for (const [name, schema] of Object.entries(fields)) {
      if (!naming.isId(name, schema)) {
        walk(schema, [...steps, { to: 'field', name }]);
      } else if (steps.length === 0) {
        add([{ to: 'field', name }], naming.kindOf(name));
      } else if (name === 'id' && kinds.length > 0) {
        // A scope or target: its `kind` says what the id names; each such kind is a case of its own.
        const named = kinds.filter((kind) => naming.namedByKind.includes(kind));
        if (named.length === 0) add([...steps, { to: 'field', name }], undefined);
        for (const kind of named) add([...steps, { to: 'field', name, kindBeside: kind }], kind);
      } else {
        const kind = naming.kindOf(name);
        add([...steps, { to: 'field', name, ...(kind && kinds.includes(kind) ? { kindBeside: kind } : {}) }], kind);
      }
    }
  };
  const walk = (schema: ZodLike, steps: Step[]) => {
    const inner = unwrap(schema);
    const def = inner._zod.def;
    switch (def.type) {
      case 'object': walkObject(shapeOf(inner), steps); break;
      case 'array': if (def.element) walk(def.element, [...steps, { to: 'element' }]); break;
      case 'union': (def.options ?? []).forEach((option, index) => walk(option, [...steps, { to: 'option', index, tag: optionTag(option, def.discriminator, index) }])); break;
      case 'record': {
        const field = [...steps].reverse().find((step) => step.to === 'field');
        if (def.keyType && unwrap(def.keyType)._zod.def.format === 'uuid') add([...steps, { to: 'key' }], field?.to === 'field' ? naming.recordKeyKind(field.name) : undefined);
        if (def.valueType) walk(def.valueType, [...steps, { to: 'key' }]);
        break;
      }
      default: break;
    }
  };
  walkObject(shape, []);
  return found;
}

export class UnbuildableError extends Error {}

/** How the builder fills what the route does not decide: the caller's own ids and its sample values. */
export interface Filling {
  naming: IdNaming;
  /** The caller organization's id of this kind (for required id fields beside the route). */
  ownId(kind: string): unknown;
  /** A sample for a place by its label (`condition<script>`, `field.value`); undefined if none. */
  sampleAt(label: string): unknown;
  /** A sample for a field by its name alone, as the top-level dictionary has them; undefined if none. */
  sampleNamed(name: string): unknown;
}

const isRequired = (schema: ZodLike) => !schema.safeParse(undefined).success;

/**
 * `base` (a valid input at the top level) with the value at `path` replaced by `leaf`: the objects,
 * arrays and union options on the way are built so the path exists (a `kind` beside an id set to
 * what the id names), their other required fields from the caller's samples. Throws
 * UnbuildableError naming the place it has no value for.
 */
export function withIdAt(shape: Record<string, ZodLike>, base: Record<string, unknown>, path: IdPath, leaf: unknown, fill: Filling): Record<string, unknown> {
  const [first, ...rest] = path.steps;
  if (first?.to !== 'field') throw new UnbuildableError(`${path.label}: a path starts at a field`);
  if (rest.length === 0) return { ...base, [first.name]: leaf };
  return { ...base, [first.name]: build(shape[first.name]!, rest, leaf, first.name, [first], fill) };
}

function build(schema: ZodLike, route: Step[], leaf: unknown, name: string, at: Step[], fill: Filling): unknown {
  const inner = unwrap(schema);
  const def = inner._zod.def;
  const [step, ...rest] = route;
  if (!step) return leaf;
  const label = labelOf(at);
  switch (step.to) {
    case 'element':
      return [build(def.element!, rest, leaf, name, [...at, step], fill)];
    case 'option':
      return build(def.options![step.index]!, rest, leaf, name, [...at, step], fill);
    case 'key': {
      // The key is the id (rest empty), or the way to an id inside the value beside an own key.
      const key = rest.length === 0 ? leaf : firstOf(fill.ownId(fill.naming.recordKeyKind(name) ?? ''));
      const value = rest.length === 0 ? valueFor(def.valueType!, `${label}{id}`, `${label}{id}`, fill) : build(def.valueType!, rest, leaf, name, [...at, step], fill);
      return { [String(key)]: value };
    }
    case 'field': {
      const fields = shapeOf(inner);
      // A sample of the whole object (a script check needs a test of its exit code or output) is the start.
      const template = fill.sampleAt(`${label}${step.kindBeside ? `<${step.kindBeside}>` : ''}`);
      const object: Record<string, unknown> = template && typeof template === 'object' ? { ...template as Record<string, unknown> } : {};
      for (const [field, fieldSchema] of Object.entries(fields)) {
        if (field === step.name || field in object) continue;
        if (isRequired(fieldSchema)) object[field] = valueFor(fieldSchema, `${label}.${field}`, field, fill);
      }
      if (step.kindBeside && 'kind' in fields) object.kind = step.kindBeside;
      object[step.name] = build(fields[step.name]!, rest, leaf, step.name, [...at, step], fill);
      return object;
    }
  }
}

const firstOf = (value: unknown) => (Array.isArray(value) ? value[0] : value);

/** A valid value for a field off the route: a literal or enum by its schema, an id of the caller's, else the caller's sample. */
function valueFor(schema: ZodLike, label: string, name: string, fill: Filling): unknown {
  const inner = unwrap(schema);
  const def = inner._zod.def;
  const labeled = fill.sampleAt(label);
  if (labeled !== undefined) return labeled;
  if (def.type === 'literal') return def.values?.[0];
  if (def.type === 'enum') return Object.values(def.entries ?? {})[0];
  if (fill.naming.isId(name, schema)) {
    const kind = fill.naming.kindOf(name);
    if (kind) return fill.ownId(kind);
  }
  const named = fill.sampleNamed(name);
  if (named !== undefined) return named;
  if (def.type === 'boolean') return false;
  if (def.type === 'string' && !def.format) return 'sample';
  if (def.type === 'union' && def.options?.[0]) return valueFor(def.options[0], label, name, fill);
  throw new UnbuildableError(`no sample value for "${label}"`);
}
