import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { audit } from '../audit/index.ts';
import { alertHistory, getAlert, listAlerts } from './alerts-repository.ts';
import { createRule, deleteRule, getRule, listRules, setExclusion, updateRule } from './rules-repository.ts';
import {
  createMaintenanceWindow, deleteChannel, deleteMaintenanceWindow, listChannels, listDeliveries, listMaintenanceWindows,
} from './channels-repository.ts';
import { bulkChange, createCheckedChannel, sendTestMessage } from './service.ts';
import { transportOptions } from '../webhooks/index.ts';
import { alertFilter, bulkIds, channelFields, ruleChanges, ruleFields, windowFields } from './schemas.ts';

const id = z.object({ id: z.uuid() }).strict();

/** The alerts inbox: everyone reads; technicians acknowledge and resolve (one or many at once). */
export const alertsRouter = router({
  list: userProcedure('viewer').input(alertFilter.default({ limit: 100 }))
    .query(({ ctx, input }) => listAlerts(ctx.services.db, ctx.user.organizationId, input)),
  get: userProcedure('viewer').input(id).query(async ({ ctx, input }) => ({
    ...(await getAlert(ctx.services.db, ctx.user.organizationId, input.id)),
    history: await alertHistory(ctx.services.db, ctx.user.organizationId, input.id),
  })),
  acknowledge: userProcedure('technician').input(bulkIds).mutation(async ({ ctx, input }) => {
    const result = await bulkChange(ctx.services.db, ctx.services.events, ctx.user.organizationId, input.ids, 'acknowledge', ctx.user.userId);
    await audit(ctx, { action: 'alert.acknowledge', details: { ids: input.ids.slice(0, 50), count: input.ids.length, changed: result.changed } });
    return result;
  }),
  resolve: userProcedure('technician').input(bulkIds).mutation(async ({ ctx, input }) => {
    const result = await bulkChange(ctx.services.db, ctx.services.events, ctx.user.organizationId, input.ids, 'resolve', ctx.user.userId);
    await audit(ctx, { action: 'alert.resolve', details: { ids: input.ids.slice(0, 50), count: input.ids.length, changed: result.changed } });
    return result;
  }),
});

/** Alert rules: everyone reads them; admins manage them. */
export const alertRulesRouter = router({
  list: userProcedure('viewer').query(({ ctx }) => listRules(ctx.services.db, ctx.user.organizationId)),
  get: userProcedure('viewer').input(id).query(({ ctx, input }) => getRule(ctx.services.db, ctx.user.organizationId, input.id)),
  create: userProcedure('admin').input(ruleFields.strict()).mutation(async ({ ctx, input }) => {
    const rule = await createRule(ctx.services.db, ctx.user.organizationId, input);
    await audit(ctx, { action: 'alert_rule.create', resourceId: rule.id, details: { name: rule.name, condition: rule.condition, severity: rule.severity } });
    return rule;
  }),
  update: userProcedure('admin').input(ruleChanges).mutation(async ({ ctx, input: { id: ruleId, ...changes } }) => {
    const rule = await updateRule(ctx.services.db, ctx.user.organizationId, ruleId, changes);
    await audit(ctx, { action: 'alert_rule.update', resourceId: ruleId, details: { changed: Object.keys(changes) } });
    return rule;
  }),
  delete: userProcedure('admin').input(id).mutation(async ({ ctx, input }) => {
    await deleteRule(ctx.services.db, ctx.user.organizationId, input.id);
    await audit(ctx, { action: 'alert_rule.delete', resourceId: input.id });
    return { id: input.id };
  }),
  /** Leaves one device out of a rule (or puts it back). */
  setExclusion: userProcedure('admin').input(z.object({ ruleId: z.uuid(), deviceId: z.uuid(), excluded: z.boolean() }).strict())
    .mutation(async ({ ctx, input }) => {
      await setExclusion(ctx.services.db, ctx.user.organizationId, input.ruleId, input.deviceId, input.excluded);
      await audit(ctx, { action: 'alert_rule.exclusion', resourceId: input.ruleId, details: { deviceId: input.deviceId, excluded: input.excluded } });
      return { ok: true };
    }),
});

/** Notification channels and their state: admins only (targets and failures are configuration). */
export const channelsRouter = router({
  list: userProcedure('admin').query(({ ctx }) => listChannels(ctx.services.db, ctx.user.organizationId)),
  deliveries: userProcedure('admin').input(z.object({ id: z.uuid(), limit: z.number().int().min(1).max(500).default(50) }).strict())
    .query(({ ctx, input }) => listDeliveries(ctx.services.db, ctx.user.organizationId, input.id, input.limit)),
  create: userProcedure('admin').input(channelFields).mutation(async ({ ctx, input }) => {
    const created = await createCheckedChannel(ctx.services.db, ctx.user.organizationId, input, ctx.services.env.WEBHOOK_ALLOW_PRIVATE);
    await audit(ctx, { action: 'channel.create', resourceId: created.channel.id, details: { name: input.name, kind: input.kind } });
    return created;
  }),
  delete: userProcedure('admin').input(id).mutation(async ({ ctx, input }) => {
    await deleteChannel(ctx.services.db, ctx.user.organizationId, input.id);
    await audit(ctx, { action: 'channel.delete', resourceId: input.id });
    return { id: input.id };
  }),
  test: userProcedure('admin').input(id).mutation(async ({ ctx, input }) => {
    const result = await sendTestMessage(ctx.services.db, ctx.user.organizationId, input.id, transportOptions(ctx.services.env));
    await audit(ctx, { action: 'channel.test', resourceId: input.id, details: { ok: result.ok } });
    return result;
  }),
});

/** Maintenance windows mute a device or the whole organization: everyone sees them, admins set them. */
export const maintenanceRouter = router({
  list: userProcedure('viewer').query(({ ctx }) => listMaintenanceWindows(ctx.services.db, ctx.user.organizationId)),
  create: userProcedure('admin').input(windowFields).mutation(async ({ ctx, input }) => {
    const window = await createMaintenanceWindow(ctx.services.db, ctx.user.organizationId, { ...input, createdBy: ctx.user.userId });
    await audit(ctx, { action: 'maintenance.create', resourceId: window.id, details: { deviceId: input.deviceId, startsAt: input.startsAt, endsAt: input.endsAt } });
    return window;
  }),
  delete: userProcedure('admin').input(id).mutation(async ({ ctx, input }) => {
    await deleteMaintenanceWindow(ctx.services.db, ctx.user.organizationId, input.id);
    await audit(ctx, { action: 'maintenance.delete', resourceId: input.id });
    return { id: input.id };
  }),
});
