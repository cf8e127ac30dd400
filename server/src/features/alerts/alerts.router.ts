import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { alertHistory, getAlert, listAlerts } from './alerts-repository.ts';
import { createRule, deleteRule, getRule, listRules, setExclusion, updateRule } from './rules-repository.ts';
import {
  createMaintenanceWindow, deleteChannel, deleteMaintenanceWindow, listChannels, listDeliveries, listMaintenanceWindows,
} from './channels-repository.ts';
import { bulkChange, createCheckedChannel, sendTestMessage } from './service.ts';
import { transportOptions } from '../webhooks/index.ts';
import { alertFilter, bulkIds, channelFields, ruleChanges, ruleFields, windowFields } from './schemas.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Env } from '../../platform/config/index.ts';
import type { EventPublisher } from '../events/index.ts';

const id = z.object({ id: z.uuid() }).strict();

/** What these procedures use, built in the composition root (app/). */
export interface AlertsRouterDeps {
  audit: Audit;
  db: RelationalStore;
  env: Env;
  events: EventPublisher;
}

/** The alerts inbox: everyone reads; technicians acknowledge and resolve (one or many at once). */
export function createAlertsRouter(deps: AlertsRouterDeps) {
  return router({
    list: userProcedure('viewer').input(alertFilter.default({ limit: 100 }))
      .query(({ ctx, input }) => listAlerts(deps.db, ctx.user.organizationId, input)),
    get: userProcedure('viewer').input(id).query(async ({ ctx, input }) => ({
      ...(await getAlert(deps.db, ctx.user.organizationId, input.id)),
      history: await alertHistory(deps.db, ctx.user.organizationId, input.id),
    })),
    acknowledge: userProcedure('technician').input(bulkIds).mutation(async ({ ctx, input }) => {
      const result = await bulkChange(deps.db, deps.events, ctx.user.organizationId, input.ids, 'acknowledge', ctx.user.userId);
      await deps.audit(ctx, { action: 'alert.acknowledge', details: { ids: input.ids.slice(0, 50), count: input.ids.length, changed: result.changed } });
      return result;
    }),
    resolve: userProcedure('technician').input(bulkIds).mutation(async ({ ctx, input }) => {
      const result = await bulkChange(deps.db, deps.events, ctx.user.organizationId, input.ids, 'resolve', ctx.user.userId);
      await deps.audit(ctx, { action: 'alert.resolve', details: { ids: input.ids.slice(0, 50), count: input.ids.length, changed: result.changed } });
      return result;
    }),
  });
}

/** Alert rules: everyone reads them; admins manage them. */
export function createAlertRulesRouter(deps: AlertsRouterDeps) {
  return router({
    list: userProcedure('viewer').query(({ ctx }) => listRules(deps.db, ctx.user.organizationId)),
    get: userProcedure('viewer').input(id).query(({ ctx, input }) => getRule(deps.db, ctx.user.organizationId, input.id)),
    create: userProcedure('admin').input(ruleFields.strict()).mutation(async ({ ctx, input }) => {
      const rule = await createRule(deps.db, ctx.user.organizationId, input);
      await deps.audit(ctx, { action: 'alert_rule.create', resourceId: rule.id, details: { name: rule.name, condition: rule.condition, severity: rule.severity } });
      return rule;
    }),
    update: userProcedure('admin').input(ruleChanges).mutation(async ({ ctx, input: { id: ruleId, ...changes } }) => {
      const rule = await updateRule(deps.db, ctx.user.organizationId, ruleId, changes);
      await deps.audit(ctx, { action: 'alert_rule.update', resourceId: ruleId, details: { changed: Object.keys(changes) } });
      return rule;
    }),
    delete: userProcedure('admin').input(id).mutation(async ({ ctx, input }) => {
      await deleteRule(deps.db, ctx.user.organizationId, input.id);
      await deps.audit(ctx, { action: 'alert_rule.delete', resourceId: input.id });
      return { id: input.id };
    }),
    /** Leaves one device out of a rule (or puts it back). */
    setExclusion: userProcedure('admin').input(z.object({ ruleId: z.uuid(), deviceId: z.uuid(), excluded: z.boolean() }).strict())
      .mutation(async ({ ctx, input }) => {
        await setExclusion(deps.db, ctx.user.organizationId, input.ruleId, input.deviceId, input.excluded);
        await deps.audit(ctx, { action: 'alert_rule.exclusion', resourceId: input.ruleId, details: { deviceId: input.deviceId, excluded: input.excluded } });
        return { ok: true };
      }),
  });
}

/** Notification channels and their state: admins only (targets and failures are configuration). */
export function createChannelsRouter(deps: AlertsRouterDeps) {
  return router({
    list: userProcedure('admin').query(({ ctx }) => listChannels(deps.db, ctx.user.organizationId)),
    deliveries: userProcedure('admin').input(z.object({ id: z.uuid(), limit: z.number().int().min(1).max(500).default(50) }).strict())
      .query(({ ctx, input }) => listDeliveries(deps.db, ctx.user.organizationId, input.id, input.limit)),
    create: userProcedure('admin').input(channelFields).mutation(async ({ ctx, input }) => {
      const created = await createCheckedChannel(deps.db, ctx.user.organizationId, input, deps.env.WEBHOOK_ALLOW_PRIVATE);
      await deps.audit(ctx, { action: 'channel.create', resourceId: created.channel.id, details: { name: input.name, kind: input.kind } });
      return created;
    }),
    delete: userProcedure('admin').input(id).mutation(async ({ ctx, input }) => {
      await deleteChannel(deps.db, ctx.user.organizationId, input.id);
      await deps.audit(ctx, { action: 'channel.delete', resourceId: input.id });
      return { id: input.id };
    }),
    test: userProcedure('admin').input(id).mutation(async ({ ctx, input }) => {
      const result = await sendTestMessage(deps.db, ctx.user.organizationId, input.id, transportOptions(deps.env));
      await deps.audit(ctx, { action: 'channel.test', resourceId: input.id, details: { ok: result.ok } });
      return result;
    }),
  });
}

/** Maintenance windows mute a device or the whole organization: everyone sees them, admins set them. */
export function createMaintenanceRouter(deps: AlertsRouterDeps) {
  return router({
    list: userProcedure('viewer').query(({ ctx }) => listMaintenanceWindows(deps.db, ctx.user.organizationId)),
    create: userProcedure('admin').input(windowFields).mutation(async ({ ctx, input }) => {
      const window = await createMaintenanceWindow(deps.db, ctx.user.organizationId, { ...input, createdBy: ctx.user.userId });
      await deps.audit(ctx, { action: 'maintenance.create', resourceId: window.id, details: { deviceId: input.deviceId, startsAt: input.startsAt, endsAt: input.endsAt } });
      return window;
    }),
    delete: userProcedure('admin').input(id).mutation(async ({ ctx, input }) => {
      await deleteMaintenanceWindow(deps.db, ctx.user.organizationId, input.id);
      await deps.audit(ctx, { action: 'maintenance.delete', resourceId: input.id });
      return { id: input.id };
    }),
  });
}
