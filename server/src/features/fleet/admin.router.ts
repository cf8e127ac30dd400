import { z } from 'zod';
import type { SqlExecutor, RelationalStore } from '../../stores/relational/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { localAdminProcedure, router } from '../../platform/trpc/trpc.ts';
import { findOrganization } from '../organizations/index.ts';
import { resolveDeviceRef } from '../commands/index.ts';
import { createSite, findSite, listSites, setDeviceSite } from './sites.ts';
import { changeTags, createTag, listTags, resolveTags } from './tags.ts';
import { createField, findField, listFields, parseFieldText, setDeviceFieldValues } from './fields.ts';
import { createGroup, findGroup, groupMemberIds, listGroups } from './groups.ts';
import { fieldDefinition, fieldDefinitionShape, groupFields, MAX_GROUP_CONDITIONS, siteFields, tagName, type GroupCondition } from './schemas.ts';
import type { Audit } from '../audit/index.ts';

const orgRef = z.object({ org: z.string().min(1).max(255) });
const ref = z.string().trim().min(1).max(255);

async function orgId(db: SqlExecutor, org: string): Promise<string> {
  const found = await findOrganization(db, org);
  if (!found) throw notFound(`Organization "${org}"`);
  return found.id;
}

/** Checks what the CLI's words became, with the schema's message as a typed error. */
function checked<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new AppError('BAD_REQUEST', result.error.issues.map((issue) => `${issue.path.join('.') || 'value'}: ${issue.message}`).join('; '));
  return result.data;
}

/** A group condition as the CLI writes it: sites, tags and fields by name. */
const cliCondition = z.object({
  kind: z.enum(['os', 'site', 'tag', 'status', 'field']),
  op: z.enum(['equals', 'contains', '<', '>']),
  /** The site, tag or field's name or id (site: "none" for devices on no site). */
  ref: ref.optional(),
  value: z.string().max(2_000).optional(),
}).strict();

async function toCondition(db: SqlExecutor, organizationId: string, c: z.output<typeof cliCondition>): Promise<GroupCondition> {
  const needRef = () => c.ref ?? '';
  switch (c.kind) {
    case 'os': return { kind: 'os', op: c.op === 'contains' ? 'contains' : 'equals', value: c.value ?? '' };
    case 'status': return { kind: 'status', op: 'equals', value: c.value === 'offline' ? 'offline' : 'online' };
    case 'site': return { kind: 'site', op: 'equals', siteId: needRef().toLowerCase() === 'none' ? null : (await findSite(db, organizationId, needRef())).id };
    case 'tag': return { kind: 'tag', op: 'has', tagId: (await resolveTags(db, organizationId, [needRef()]))[0]!.id };
    case 'field': {
      const field = await findField(db, organizationId, needRef());
      return { kind: 'field', fieldId: field.id, op: c.op, value: parseFieldText(field, c.value ?? '') };
    }
  }
}

/** What these procedures use, built in the composition root (app/). */
export interface FleetAdminRouterDeps {
  audit: Audit;
  db: RelationalStore;
}

/** The `ninjait site|tag|field|group` commands: the local admin, across organizations. */
export function createFleetAdminRouter(deps: FleetAdminRouterDeps) {
  return router({
    sites: router({
      create: localAdminProcedure.input(siteFields.extend(orgRef.shape)).mutation(async ({ ctx, input: { org, ...fields } }) => {
        const organizationId = await orgId(deps.db, org);
        const site = await createSite(deps.db, organizationId, fields);
        await deps.audit(ctx, { action: 'site.create', organizationId, resourceId: site.id, details: { name: site.name, by: 'local-admin' } });
        return site;
      }),
      list: localAdminProcedure.input(orgRef.strict()).query(async ({ input }) => listSites(deps.db, await orgId(deps.db, input.org))),
      /** Puts a device on a site by name, or on none (`site: null`). */
      assign: localAdminProcedure.input(orgRef.extend({ device: ref, site: ref.nullable() }).strict()).mutation(async ({ ctx, input }) => {
        const organizationId = await orgId(deps.db, input.org);
        const deviceId = await resolveDeviceRef(deps.db, input.device, organizationId);
        const siteId = input.site === null ? null : (await findSite(deps.db, organizationId, input.site)).id;
        await setDeviceSite(deps.db, organizationId, deviceId, siteId);
        await deps.audit(ctx, { action: 'device.site', organizationId, resourceId: deviceId, details: { siteId, by: 'local-admin' } });
        return { deviceId, siteId };
      }),
    }),
    tags: router({
      create: localAdminProcedure.input(orgRef.extend({ name: tagName }).strict()).mutation(async ({ ctx, input }) => {
        const organizationId = await orgId(deps.db, input.org);
        const tag = await createTag(deps.db, organizationId, input.name);
        await deps.audit(ctx, { action: 'tag.create', organizationId, resourceId: tag.id, details: { name: tag.name, by: 'local-admin' } });
        return tag;
      }),
      list: localAdminProcedure.input(orgRef.strict()).query(async ({ input }) => listTags(deps.db, await orgId(deps.db, input.org))),
      /** Adds (or removes) tags by name on devices by name or id. */
      assign: localAdminProcedure.input(orgRef.extend({ devices: z.array(ref).min(1).max(500), tags: z.array(ref).min(1).max(50), add: z.boolean() }).strict())
        .mutation(async ({ ctx, input }) => {
          const organizationId = await orgId(deps.db, input.org);
          const deviceIds = await Promise.all(input.devices.map((device) => resolveDeviceRef(deps.db, device, organizationId)));
          const tagIds = (await resolveTags(deps.db, organizationId, input.tags)).map((tag) => tag.id);
          const changed = await changeTags(deps.db, organizationId, deviceIds, tagIds, input.add);
          await deps.audit(ctx, { action: input.add ? 'device.tags_added' : 'device.tags_removed', organizationId, details: { deviceIds, tagIds, changed, by: 'local-admin' } });
          return { changed };
        }),
    }),
    fields: router({
      create: localAdminProcedure.input(fieldDefinitionShape.extend(orgRef.shape)).mutation(async ({ ctx, input: { org, ...definition } }) => {
        const organizationId = await orgId(deps.db, org);
        const field = await createField(deps.db, organizationId, checked(fieldDefinition, definition));
        await deps.audit(ctx, { action: 'custom_field.create', organizationId, resourceId: field.id, details: { name: field.name, type: field.type, by: 'local-admin' } });
        return field;
      }),
      list: localAdminProcedure.input(orgRef.strict()).query(async ({ input }) => listFields(deps.db, await orgId(deps.db, input.org))),
      /** Sets one device's value of a field (text as typed, read as the field's type); null clears it. */
      set: localAdminProcedure.input(orgRef.extend({ device: ref, field: ref, value: z.string().max(2_000).nullable() }).strict()).mutation(async ({ ctx, input }) => {
        const organizationId = await orgId(deps.db, input.org);
        const deviceId = await resolveDeviceRef(deps.db, input.device, organizationId);
        const field = await findField(deps.db, organizationId, input.field);
        const values = await setDeviceFieldValues(deps.db, organizationId, deviceId, { [field.id]: input.value === null ? null : parseFieldText(field, input.value) });
        await deps.audit(ctx, { action: 'device.fields', organizationId, resourceId: deviceId, details: { fieldIds: [field.id], by: 'local-admin' } });
        return values;
      }),
    }),
    groups: router({
      create: localAdminProcedure.input(orgRef.extend({
        name: ref, description: z.string().max(1_000).default(''), match: z.enum(['all', 'any']).default('all'),
        conditions: z.array(cliCondition).max(MAX_GROUP_CONDITIONS),
      }).strict()).mutation(async ({ ctx, input }) => {
        const organizationId = await orgId(deps.db, input.org);
        const conditions = await Promise.all(input.conditions.map((c) => toCondition(deps.db, organizationId, c)));
        const group = await createGroup(deps.db, organizationId, checked(groupFields, { name: input.name, description: input.description, filter: { match: input.match, conditions } }));
        await deps.audit(ctx, { action: 'group.create', organizationId, resourceId: group.id, details: { name: group.name, filter: group.filter, by: 'local-admin' } });
        return group;
      }),
      list: localAdminProcedure.input(orgRef.strict()).query(async ({ input }) => listGroups(deps.db, await orgId(deps.db, input.org))),
      members: localAdminProcedure.input(orgRef.extend({ group: ref }).strict()).query(async ({ input }) => {
        const organizationId = await orgId(deps.db, input.org);
        return groupMemberIds(deps.db, organizationId, (await findGroup(deps.db, organizationId, input.group)).id);
      }),
    }),
  });
}
