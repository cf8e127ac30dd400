import { z } from 'zod';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { audit } from '../audit/index.ts';
import { transportOptions } from './delivery/index.ts';
import { createCheckedSubscription, resendEvent, sendTestEvent } from './service.ts';
import { deleteSubscription, listSubscriptionDeliveries, listSubscriptions, updateSubscription } from './subscriptions-repository.ts';
import { deliveriesInput, resendInput, subscriptionChanges, subscriptionFields } from './schemas.ts';

const id = z.object({ id: z.uuid() }).strict();

/**
 * Event webhooks of the caller's organization: technicians read them and their delivery log
 * (to see why an integration missed something); admins manage them, resend and test.
 */
export const webhooksRouter = router({
  list: userProcedure('technician').query(({ ctx }) => listSubscriptions(ctx.services.db, ctx.user.organizationId)),
  deliveries: userProcedure('technician').input(deliveriesInput)
    .query(({ ctx, input }) => listSubscriptionDeliveries(ctx.services.db, ctx.user.organizationId, input.id, input.limit)),
  create: userProcedure('admin').input(subscriptionFields).mutation(async ({ ctx, input }) => {
    const created = await createCheckedSubscription(ctx.services.db, ctx.user.organizationId, input, {
      allowPrivate: ctx.services.env.WEBHOOK_ALLOW_PRIVATE, createdBy: ctx.user.userId,
    });
    await audit(ctx, { action: 'webhook.create', resourceId: created.subscription.id, details: { name: input.name, eventTypes: input.eventTypes } });
    return created;
  }),
  update: userProcedure('admin').input(subscriptionChanges).mutation(async ({ ctx, input: { id: subscriptionId, ...changes } }) => {
    const subscription = await updateSubscription(ctx.services.db, ctx.user.organizationId, subscriptionId, changes);
    await audit(ctx, { action: 'webhook.update', resourceId: subscriptionId, details: changes });
    return subscription;
  }),
  delete: userProcedure('admin').input(id).mutation(async ({ ctx, input }) => {
    await deleteSubscription(ctx.services.db, ctx.user.organizationId, input.id);
    await audit(ctx, { action: 'webhook.delete', resourceId: input.id });
    return { id: input.id };
  }),
  test: userProcedure('admin').input(id).mutation(async ({ ctx, input }) => {
    const result = await sendTestEvent(ctx.services.db, ctx.user.organizationId, input.id, transportOptions(ctx.services.env));
    await audit(ctx, { action: 'webhook.test', resourceId: input.id, details: { ok: result.ok } });
    return result;
  }),
  resend: userProcedure('admin').input(resendInput).mutation(async ({ ctx, input }) => {
    const queued = await resendEvent(ctx.services.db, ctx.user.organizationId, input.id, input.eventId);
    await audit(ctx, { action: 'webhook.resend', resourceId: input.id, details: { eventId: input.eventId } });
    return queued;
  }),
});
