import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { boundedSettingsSchema } from './schema.ts';
import { deviceSettings, effectiveDeviceSettings, organizationSettings, setDeviceSettings, setOrganizationSettings } from './settings.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';

/** What these procedures use, built in the composition root (app/). */
export interface SettingsRouterDeps {
  audit: Audit;
  db: RelationalStore;
}

/**
 * Configuration data. Everyone reads; admins set the organization's settings, technicians a
 * device's (they look after machines one by one). A set replaces the whole object: what is left
 * out is cleared. Own organization only.
 */
export function createSettingsRouter(deps: SettingsRouterDeps) {
  return router({
    organization: userProcedure('viewer').query(({ ctx }) => organizationSettings(deps.db, ctx.user.organizationId)),
    setOrganization: userProcedure('admin').input(z.object({ settings: boundedSettingsSchema }).strict())
      .mutation(async ({ ctx, input }) => {
        const before = await setOrganizationSettings(deps.db, ctx.user.organizationId, input.settings, ctx.user.userId);
        await deps.audit(ctx, { action: 'settings.organization.update', resourceId: ctx.user.organizationId, details: { before: before.settings, after: input.settings } });
        return organizationSettings(deps.db, ctx.user.organizationId);
      }),
    device: userProcedure('viewer').input(z.object({ deviceId: z.uuid() }).strict())
      .query(async ({ ctx, input }) => ({
        ...await deviceSettings(deps.db, ctx.user.organizationId, input.deviceId),
        effective: await effectiveDeviceSettings(deps.db, ctx.user.organizationId, input.deviceId),
      })),
    setDevice: userProcedure('technician').input(z.object({ deviceId: z.uuid(), settings: boundedSettingsSchema }).strict())
      .mutation(async ({ ctx, input }) => {
        const before = await setDeviceSettings(deps.db, ctx.user.organizationId, input.deviceId, input.settings, ctx.user.userId);
        await deps.audit(ctx, { action: 'settings.device.update', resourceId: input.deviceId, details: { deviceId: input.deviceId, before: before.settings, after: input.settings } });
        return deviceSettings(deps.db, ctx.user.organizationId, input.deviceId);
      }),
  });
}
