import { z } from 'zod';
import { localAdminProcedure, router, userProcedure } from '../../platform/trpc/trpc.ts';
import { notFound } from '../../platform/errors.ts';
import type { SqlExecutor, RelationalStore } from '../../stores/relational/index.ts';
import { findOrganization } from '../organizations/index.ts';
import { assetForDevice, createAsset, deleteAsset, getAsset, listAssets, updateAsset, type Asset } from './assets.ts';
import type { Audit } from '../audit/index.ts';

const text = (max: number) => z.string().trim().min(1).max(max);
const optionalText = (max: number) => z.string().trim().max(max).transform((value) => value || null).nullable();
const isoDay = z.iso.date('A day is YYYY-MM-DD').nullable();

/** What people set on an asset. Bounds keep one row small; every field but name and kind may be left out or empty. */
export const assetFieldsSchema = z.object({
  name: text(200),
  kind: text(60),
  serial: optionalText(200).optional(),
  manufacturer: optionalText(200).optional(),
  model: optionalText(200).optional(),
  purchaseDate: isoDay.optional(),
  warrantyEnd: isoDay.optional(),
  assignee: optionalText(200).optional(),
  location: optionalText(200).optional(),
  notes: optionalText(4_000).optional(),
  /** The enrolled device this asset is; null when it is not enrolled (a dock, a monitor, a spare). */
  deviceId: z.uuid().nullable().optional(),
});

type AssetInput = z.infer<typeof assetFieldsSchema>;
/** A new asset: the fields left out are empty. (No defaults in the schema: an update must not blank what it leaves out.) */
const withEmpty = (input: AssetInput) => ({
  serial: null, manufacturer: null, model: null, purchaseDate: null, warrantyEnd: null, assignee: null, location: null, notes: null, deviceId: null, ...input,
});

export const assetFilterSchema = z.object({
  search: z.string().trim().max(200).optional(),
  kind: z.string().trim().max(60).optional(),
  /** Warranty ending between today and this many days from now. */
  warrantyWithinDays: z.number().int().min(0).max(3_650).optional(),
  limit: z.number().int().min(1).max(500).default(100),
  offset: z.number().int().min(0).max(100_000).default(0),
}).strict();

const filterOf = (input: z.infer<typeof assetFilterSchema>) => ({
  search: input.search || null, kind: input.kind || null, warrantyWithinDays: input.warrantyWithinDays ?? null, limit: input.limit, offset: input.offset,
});

/** What the audit log keeps of an asset: its fields, not the joined device name. */
const recorded = (asset: Asset) => {
  const { deviceName: _name, createdAt: _created, updatedAt: _updated, organizationId: _org, ...fields } = asset;
  return fields;
};

const changedFields = (before: Asset, after: Asset) => Object.fromEntries(
  Object.entries(recorded(after)).filter(([key, value]) => recorded(before)[key as keyof ReturnType<typeof recorded>] !== value)
    .map(([key, value]) => [key, { from: recorded(before)[key as keyof ReturnType<typeof recorded>], to: value }]),
);

/** What these procedures use, built in the composition root (app/). */
export interface AssetsRouterDeps {
  audit: Audit;
  db: RelationalStore;
}

/** Hardware assets: technicians and up read them; admins add, change, link and remove them. Own organization only. */
export function createAssetsRouter(deps: AssetsRouterDeps) {
  return router({
    list: userProcedure('technician').input(assetFilterSchema)
      .query(({ ctx, input }) => listAssets(deps.db, ctx.user.organizationId, filterOf(input))),
    get: userProcedure('technician').input(z.object({ id: z.uuid() }).strict())
      .query(({ ctx, input }) => getAsset(deps.db, ctx.user.organizationId, input.id)),
    /** The device page's "Asset" section: the asset this device is, or null. */
    forDevice: userProcedure('technician').input(z.object({ deviceId: z.uuid() }).strict())
      .query(({ ctx, input }) => assetForDevice(deps.db, ctx.user.organizationId, input.deviceId)),
    create: userProcedure('admin').input(assetFieldsSchema.strict())
      .mutation(async ({ ctx, input }) => {
        const asset = await createAsset(deps.db, ctx.user.organizationId, withEmpty(input));
        await deps.audit(ctx, { action: 'asset.create', resourceId: asset.id, details: recorded(asset) });
        return asset;
      }),
    update: userProcedure('admin').input(assetFieldsSchema.partial().extend({ id: z.uuid() }).strict())
      .mutation(async ({ ctx, input }) => {
        const { id, ...changes } = input;
        const { before, after } = await updateAsset(deps.db, ctx.user.organizationId, id, changes);
        await deps.audit(ctx, { action: 'asset.update', resourceId: id, details: { changes: changedFields(before, after) } });
        return after;
      }),
    remove: userProcedure('admin').input(z.object({ id: z.uuid() }).strict())
      .mutation(async ({ ctx, input }) => {
        const asset = await deleteAsset(deps.db, ctx.user.organizationId, input.id);
        await deps.audit(ctx, { action: 'asset.delete', resourceId: asset.id, details: recorded(asset) });
        return { ok: true };
      }),
  });
}

const orgRef = z.string().min(1).max(255);

async function orgId(db: SqlExecutor, ref: string): Promise<string> {
  const org = await findOrganization(db, ref);
  if (!org) throw notFound(`Organization "${ref}"`);
  return org.id;
}

/** `ninjait asset ...`: the server machine's operator, for any organization. */
export function createAssetsAdminRouter(deps: AssetsRouterDeps) {
  return router({
    list: localAdminProcedure.input(assetFilterSchema.extend({ org: orgRef }))
      .query(async ({ input }) => listAssets(deps.db, await orgId(deps.db, input.org), filterOf(input))),
    create: localAdminProcedure.input(assetFieldsSchema.extend({ org: orgRef }).strict())
      .mutation(async ({ ctx, input }) => {
        const { org, ...fields } = input;
        const organizationId = await orgId(deps.db, org);
        const asset = await createAsset(deps.db, organizationId, withEmpty(fields));
        await deps.audit(ctx, { action: 'asset.create', organizationId, resourceId: asset.id, details: { ...recorded(asset), by: 'local-admin' } });
        return asset;
      }),
    update: localAdminProcedure.input(assetFieldsSchema.partial().extend({ org: orgRef, id: z.uuid() }).strict())
      .mutation(async ({ ctx, input }) => {
        const { org, id, ...changes } = input;
        const organizationId = await orgId(deps.db, org);
        const { before, after } = await updateAsset(deps.db, organizationId, id, changes);
        await deps.audit(ctx, { action: 'asset.update', organizationId, resourceId: id, details: { changes: changedFields(before, after), by: 'local-admin' } });
        return after;
      }),
    remove: localAdminProcedure.input(z.object({ org: orgRef, id: z.uuid() }).strict())
      .mutation(async ({ ctx, input }) => {
        const organizationId = await orgId(deps.db, input.org);
        const asset = await deleteAsset(deps.db, organizationId, input.id);
        await deps.audit(ctx, { action: 'asset.delete', organizationId, resourceId: asset.id, details: { ...recorded(asset), by: 'local-admin' } });
        return { ok: true };
      }),
  });
}
