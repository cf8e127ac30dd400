import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { transportOptions } from './delivery/index.ts';
import { createCheckedSubscription, resendEvent, sendTestEvent } from './service.ts';
import { deleteSubscription, listSubscriptionDeliveries, listSubscriptions, updateSubscription } from './subscriptions-repository.ts';
import { deliveriesInput, resendInput, subscriptionChanges, subscriptionFields } from './schemas.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Env } from '../../platform/config/index.ts';

const id = z.object({ id: z.uuid() }).strict();

/** What these procedures use, built in the composition root (app/). */
export interface WebhooksRouterDeps {
  audit: Audit;
  db: RelationalStore;
  env: Env;
}

/**
 * Event webhooks of the caller's organization: technicians read them and their delivery log
 * (to see why an integration missed something); admins manage them, resend and test.
 */
export function createWebhooksRouter(deps: WebhooksRouterDeps) {
  return router({
    list: userProcedure('technician').query(({ ctx }) => listSubscriptions(deps.db, ctx.user.organizationId)),
    deliveries: userProcedure('technician').input(deliveriesInput)
      .query(({ ctx, input }) => listSubscriptionDeliveries(deps.db, ctx.user.organizationId, input.id, input.limit)),
    create: userProcedure('admin').input(subscriptionFields).mutation(async ({ ctx, input }) => {
      const created = await createCheckedSubscription(deps.db, ctx.user.organizationId, input, {
        allowPrivate: deps.env.WEBHOOK_ALLOW_PRIVATE, createdBy: ctx.user.userId,
      });
      await deps.audit(ctx, { action: 'webhook.create', resourceId: created.subscription.id, details: { name: input.name, eventTypes: input.eventTypes } });
      return created;
    }),
    update: userProcedure('admin').input(subscriptionChanges).mutation(async ({ ctx, input: { id: subscriptionId, ...changes } }) => {
      const subscription = await updateSubscription(deps.db, ctx.user.organizationId, subscriptionId, changes);
      await deps.audit(ctx, { action: 'webhook.update', resourceId: subscriptionId, details: changes });
      return subscription;
    }),
    delete: userProcedure('admin').input(id).mutation(async ({ ctx, input }) => {
      await deleteSubscription(deps.db, ctx.user.organizationId, input.id);
      await deps.audit(ctx, { action: 'webhook.delete', resourceId: input.id });
      return { id: input.id };
    }),
    test: userProcedure('admin').input(id).mutation(async ({ ctx, input }) => {
      const result = await sendTestEvent(deps.db, ctx.user.organizationId, input.id, transportOptions(deps.env));
      await deps.audit(ctx, { action: 'webhook.test', resourceId: input.id, details: { ok: result.ok } });
      return result;
    }),
    resend: userProcedure('admin').input(resendInput).mutation(async ({ ctx, input }) => {
      const queued = await resendEvent(deps.db, ctx.user.organizationId, input.id, input.eventId);
      await deps.audit(ctx, { action: 'webhook.resend', resourceId: input.id, details: { eventId: input.eventId } });
      return queued;
    }),
  });
}
