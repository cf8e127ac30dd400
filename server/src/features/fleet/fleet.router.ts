import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { createSite, deleteSite, deviceSiteId, listSites, setDeviceSite, updateSite } from './sites.ts';
import { changeTags, createTag, deleteTag, deviceTags, listTags, renameTag, setDeviceTags } from './tags.ts';
import { createField, deleteField, deviceFieldValues, listFields, setDeviceFieldValues, updateField } from './fields.ts';
import { createGroup, deleteGroup, getGroup, groupMemberIds, listGroups, updateGroup } from './groups.ts';
import { fieldDefinition, fieldDefinitionShape, fieldValue, groupFields, MAX_FIELDS, MAX_SELECT_OPTIONS, MAX_TAGS_PER_DEVICE, siteFields, tagName } from './schemas.ts';
import { assertDevice } from './device-ref.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Audit } from '../audit/index.ts';

const id = z.object({ id: z.uuid() }).strict();
const deviceRef = z.object({ deviceId: z.uuid() }).strict();
/** Reads need a technician (the structure says how the fleet is run); changes need an admin. */
const READ = 'technician';
const WRITE = 'admin';

/** What these procedures use, built in the composition root (app/). */
export interface FleetRouterDeps {
  audit: Audit;
  db: RelationalStore;
}

function createSitesRouter(deps: FleetRouterDeps) {
  return router({
    list: userProcedure(READ).query(({ ctx }) => listSites(deps.db, ctx.user.organizationId)),
    create: userProcedure(WRITE).input(siteFields).mutation(async ({ ctx, input }) => {
      const site = await createSite(deps.db, ctx.user.organizationId, input);
      await deps.audit(ctx, { action: 'site.create', resourceId: site.id, details: { name: site.name, timezone: site.timezone } });
      return site;
    }),
    update: userProcedure(WRITE).input(siteFields.partial().extend(id.shape).strict()).mutation(async ({ ctx, input: { id: siteId, ...changes } }) => {
      const site = await updateSite(deps.db, ctx.user.organizationId, siteId, changes);
      await deps.audit(ctx, { action: 'site.update', resourceId: siteId, details: { changed: Object.keys(changes) } });
      return site;
    }),
    delete: userProcedure(WRITE).input(id).mutation(async ({ ctx, input }) => {
      const site = await deleteSite(deps.db, ctx.user.organizationId, input.id);
      await deps.audit(ctx, { action: 'site.delete', resourceId: site.id, details: { name: site.name } });
      return { id: site.id };
    }),
  });
}

function createTagsRouter(deps: FleetRouterDeps) {
  return router({
    list: userProcedure(READ).query(({ ctx }) => listTags(deps.db, ctx.user.organizationId)),
    create: userProcedure(WRITE).input(z.object({ name: tagName }).strict()).mutation(async ({ ctx, input }) => {
      const tag = await createTag(deps.db, ctx.user.organizationId, input.name);
      await deps.audit(ctx, { action: 'tag.create', resourceId: tag.id, details: { name: tag.name } });
      return tag;
    }),
    rename: userProcedure(WRITE).input(id.extend({ name: tagName }).strict()).mutation(async ({ ctx, input }) => {
      const tag = await renameTag(deps.db, ctx.user.organizationId, input.id, input.name);
      await deps.audit(ctx, { action: 'tag.update', resourceId: tag.id, details: { name: tag.name } });
      return tag;
    }),
    delete: userProcedure(WRITE).input(id).mutation(async ({ ctx, input }) => {
      const tag = await deleteTag(deps.db, ctx.user.organizationId, input.id);
      await deps.audit(ctx, { action: 'tag.delete', resourceId: tag.id, details: { name: tag.name } });
      return { id: tag.id };
    }),
    /** Adds or removes tags on several devices at once (the fleet table's bulk action). */
    assign: userProcedure(WRITE).input(z.object({
      deviceIds: z.array(z.uuid()).min(1).max(500), tagIds: z.array(z.uuid()).min(1).max(MAX_TAGS_PER_DEVICE), add: z.boolean(),
    }).strict()).mutation(async ({ ctx, input }) => {
      const changed = await changeTags(deps.db, ctx.user.organizationId, input.deviceIds, input.tagIds, input.add);
      await deps.audit(ctx, { action: input.add ? 'device.tags_added' : 'device.tags_removed', details: { deviceIds: input.deviceIds.slice(0, 50), count: input.deviceIds.length, tagIds: input.tagIds, changed } });
      return { changed };
    }),
  });
}

function createFieldsRouter(deps: FleetRouterDeps) {
  return router({
    list: userProcedure(READ).query(({ ctx }) => listFields(deps.db, ctx.user.organizationId)),
    create: userProcedure(WRITE).input(fieldDefinition).mutation(async ({ ctx, input }) => {
      const field = await createField(deps.db, ctx.user.organizationId, input);
      await deps.audit(ctx, { action: 'custom_field.create', resourceId: field.id, details: { name: field.name, type: field.type, required: field.required } });
      return field;
    }),
    update: userProcedure(WRITE).input(id.extend({
      name: fieldDefinitionShape.shape.name.optional(),
      options: z.array(z.string().trim().min(1).max(200)).max(MAX_SELECT_OPTIONS).optional(),
      required: z.boolean().optional(),
    }).strict()).mutation(async ({ ctx, input: { id: fieldId, ...changes } }) => {
      const field = await updateField(deps.db, ctx.user.organizationId, fieldId, changes);
      await deps.audit(ctx, { action: 'custom_field.update', resourceId: fieldId, details: { changed: Object.keys(changes) } });
      return field;
    }),
    delete: userProcedure(WRITE).input(id).mutation(async ({ ctx, input }) => {
      const field = await deleteField(deps.db, ctx.user.organizationId, input.id);
      await deps.audit(ctx, { action: 'custom_field.delete', resourceId: field.id, details: { name: field.name } });
      return { id: field.id };
    }),
  });
}

function createGroupsRouter(deps: FleetRouterDeps) {
  return router({
    list: userProcedure(READ).query(({ ctx }) => listGroups(deps.db, ctx.user.organizationId)),
    get: userProcedure(READ).input(id).query(({ ctx, input }) => getGroup(deps.db, ctx.user.organizationId, input.id)),
    /** The group's devices right now (ids; the fleet table lists them with `groupId`). */
    members: userProcedure(READ).input(id).query(({ ctx, input }) => groupMemberIds(deps.db, ctx.user.organizationId, input.id)),
    create: userProcedure(WRITE).input(groupFields).mutation(async ({ ctx, input }) => {
      const group = await createGroup(deps.db, ctx.user.organizationId, input);
      await deps.audit(ctx, { action: 'group.create', resourceId: group.id, details: { name: group.name, filter: group.filter } });
      return group;
    }),
    update: userProcedure(WRITE).input(groupFields.partial().extend(id.shape).strict()).mutation(async ({ ctx, input: { id: groupId, ...changes } }) => {
      const group = await updateGroup(deps.db, ctx.user.organizationId, groupId, changes);
      await deps.audit(ctx, { action: 'group.update', resourceId: groupId, details: { changed: Object.keys(changes), filter: group.filter } });
      return group;
    }),
    delete: userProcedure(WRITE).input(id).mutation(async ({ ctx, input }) => {
      const group = await deleteGroup(deps.db, ctx.user.organizationId, input.id);
      await deps.audit(ctx, { action: 'group.delete', resourceId: group.id, details: { name: group.name } });
      return { id: group.id };
    }),
  });
}

/** One device's place in the structure: its site, tags and custom values. */
function createDeviceRouter(deps: FleetRouterDeps) {
  return router({
    get: userProcedure(READ).input(deviceRef).query(async ({ ctx, input }) => {
      const { db } = deps;
      const organizationId = ctx.user.organizationId;
      await assertDevice(db, organizationId, input.deviceId);
      return {
        siteId: await deviceSiteId(db, organizationId, input.deviceId),
        tags: await deviceTags(db, organizationId, input.deviceId),
        fields: await deviceFieldValues(db, organizationId, input.deviceId),
      };
    }),
    setSite: userProcedure(WRITE).input(deviceRef.extend({ siteId: z.uuid().nullable() }).strict()).mutation(async ({ ctx, input }) => {
      await setDeviceSite(deps.db, ctx.user.organizationId, input.deviceId, input.siteId);
      await deps.audit(ctx, { action: 'device.site', resourceId: input.deviceId, details: { siteId: input.siteId } });
      return { deviceId: input.deviceId, siteId: input.siteId };
    }),
    setTags: userProcedure(WRITE).input(deviceRef.extend({ tagIds: z.array(z.uuid()).max(MAX_TAGS_PER_DEVICE) }).strict()).mutation(async ({ ctx, input }) => {
      const tags = await setDeviceTags(deps.db, ctx.user.organizationId, input.deviceId, input.tagIds);
      await deps.audit(ctx, { action: 'device.tags', resourceId: input.deviceId, details: { tags: tags.map((tag) => tag.name) } });
      return tags;
    }),
    /** Sets some custom values (keyed by field id; null clears one), all checked before any is written. */
    setFields: userProcedure(WRITE).input(deviceRef.extend({
      values: z.record(z.uuid(), fieldValue).refine((values) => Object.keys(values).length <= MAX_FIELDS, `at most ${MAX_FIELDS} fields`),
    }).strict()).mutation(async ({ ctx, input }) => {
      const values = await setDeviceFieldValues(deps.db, ctx.user.organizationId, input.deviceId, input.values);
      await deps.audit(ctx, { action: 'device.fields', resourceId: input.deviceId, details: { fieldIds: Object.keys(input.values) } });
      return values;
    }),
  });
}

/** The structure of the fleet: sites, tags, custom fields, dynamic groups, and a device's place in them. */
export function createFleetRouter(deps: FleetRouterDeps) {
  return router({ sites: createSitesRouter(deps), tags: createTagsRouter(deps), fields: createFieldsRouter(deps), groups: createGroupsRouter(deps), device: createDeviceRouter(deps) });
}
