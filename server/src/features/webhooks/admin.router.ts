import { z } from 'zod';
import { notFound } from '../../platform/errors.ts';
import type { SqlExecutor, RelationalStore } from '../../stores/relational/index.ts';
import { localAdminProcedure, router } from '../../platform/trpc/trpc.ts';
import { findOrganization } from '../organizations/index.ts';
import { createCheckedSubscription, resendEvent } from './service.ts';
import { findSubscription, listSubscriptionDeliveries, listSubscriptions } from './subscriptions-repository.ts';
import { subscriptionFields } from './schemas.ts';
import type { Audit } from '../audit/index.ts';
import type { Env } from '../../platform/config/index.ts';

const org = z.string().min(1).max(255);
const webhookRef = z.string().min(1).max(200);

async function orgId(db: SqlExecutor, ref: string): Promise<string> {
  const found = await findOrganization(db, ref);
  if (!found) throw notFound(`Organization "${ref}"`);
  return found.id;
}

/** What these procedures use, built in the composition root (app/). */
export interface WebhooksAdminRouterDeps {
  audit: Audit;
  db: RelationalStore;
  env: Env;
}

/** The `ninjait webhook` commands: the local admin, across organizations, webhooks by id or name. */
export function createWebhooksAdminRouter(deps: WebhooksAdminRouterDeps) {
  return router({
    create: localAdminProcedure.input(subscriptionFields.extend({ org })).mutation(async ({ ctx, input: { org: ref, ...fields } }) => {
      const organizationId = await orgId(deps.db, ref);
      const created = await createCheckedSubscription(deps.db, organizationId, fields, { allowPrivate: deps.env.WEBHOOK_ALLOW_PRIVATE, createdBy: null });
      await deps.audit(ctx, { action: 'webhook.create', organizationId, resourceId: created.subscription.id, details: { name: fields.name, eventTypes: fields.eventTypes, by: 'local-admin' } });
      return created;
    }),
    list: localAdminProcedure.input(z.object({ org }).strict()).query(async ({ input }) => listSubscriptions(deps.db, await orgId(deps.db, input.org))),
    deliveries: localAdminProcedure.input(z.object({ org, webhook: webhookRef, limit: z.number().int().min(1).max(500).default(50) }).strict())
      .query(async ({ input }) => {
        const organizationId = await orgId(deps.db, input.org);
        const subscription = await findSubscription(deps.db, organizationId, input.webhook);
        return listSubscriptionDeliveries(deps.db, organizationId, subscription.id, input.limit);
      }),
    resend: localAdminProcedure.input(z.object({ org, webhook: webhookRef, eventId: z.uuid() }).strict()).mutation(async ({ ctx, input }) => {
      const organizationId = await orgId(deps.db, input.org);
      const subscription = await findSubscription(deps.db, organizationId, input.webhook);
      const queued = await resendEvent(deps.db, organizationId, subscription.id, input.eventId);
      await deps.audit(ctx, { action: 'webhook.resend', organizationId, resourceId: subscription.id, details: { eventId: input.eventId, by: 'local-admin' } });
      return queued;
    }),
  });
}
