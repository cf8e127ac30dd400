import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { audit } from '../audit/index.ts';
import { boundedSettingsSchema } from './schema.ts';
import { deviceSettings, effectiveDeviceSettings, organizationSettings, setDeviceSettings, setOrganizationSettings } from './settings.ts';

/**
 * Configuration data. Everyone reads; admins set the organization's settings, technicians a
 * device's (they look after machines one by one). A set replaces the whole object: what is left
 * out is cleared. Own organization only.
 */
export const settingsRouter = router({
  organization: userProcedure('viewer').query(({ ctx }) => organizationSettings(ctx.services.db, ctx.user.organizationId)),
  setOrganization: userProcedure('admin').input(z.object({ settings: boundedSettingsSchema }).strict())
    .mutation(async ({ ctx, input }) => {
      const before = await setOrganizationSettings(ctx.services.db, ctx.user.organizationId, input.settings, ctx.user.userId);
      await audit(ctx, { action: 'settings.organization.update', resourceId: ctx.user.organizationId, details: { before: before.settings, after: input.settings } });
      return organizationSettings(ctx.services.db, ctx.user.organizationId);
    }),
  device: userProcedure('viewer').input(z.object({ deviceId: z.uuid() }).strict())
    .query(async ({ ctx, input }) => ({
      ...await deviceSettings(ctx.services.db, ctx.user.organizationId, input.deviceId),
      effective: await effectiveDeviceSettings(ctx.services.db, ctx.user.organizationId, input.deviceId),
    })),
  setDevice: userProcedure('technician').input(z.object({ deviceId: z.uuid(), settings: boundedSettingsSchema }).strict())
    .mutation(async ({ ctx, input }) => {
      const before = await setDeviceSettings(ctx.services.db, ctx.user.organizationId, input.deviceId, input.settings, ctx.user.userId);
      await audit(ctx, { action: 'settings.device.update', resourceId: input.deviceId, details: { deviceId: input.deviceId, before: before.settings, after: input.settings } });
      return deviceSettings(ctx.services.db, ctx.user.organizationId, input.deviceId);
    }),
});
