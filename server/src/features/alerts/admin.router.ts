import { z } from 'zod';
import type { SqlExecutor, RelationalStore } from '../../stores/relational/index.ts';
import { notFound } from '../../platform/errors.ts';
import { localAdminProcedure, router } from '../../platform/trpc/trpc.ts';
import { findOrganization } from '../organizations/index.ts';
import { scopeByName } from '../fleet/index.ts';
import { resolveDeviceRef } from '../commands/index.ts';
import { listAlerts } from './alerts-repository.ts';
import { channelIdsByRef, listChannels } from './channels-repository.ts';
import { createRule, findRule, listRules, scriptIdByRef, updateRule } from './rules-repository.ts';
import { conditionFromText, createCheckedChannel } from './service.ts';
import { alertFilter, channelFields, name, severity } from './schemas.ts';
import type { Audit } from '../audit/index.ts';
import type { Env } from '../../platform/config/index.ts';

const orgRef = z.object({ org: z.string().min(1).max(255) });

async function orgId(db: SqlExecutor, ref: string): Promise<string> {
  const org = await findOrganization(db, ref);
  if (!org) throw notFound(`Organization "${ref}"`);
  return org.id;
}

/** A `--when` text as a condition; a script check's script is found by name or id in the organization. */
const whenOf = (db: SqlExecutor, organizationId: string, when: string, options: Parameters<typeof conditionFromText>[1]) =>
  conditionFromText(when, options, (ref) => scriptIdByRef(db, organizationId, ref));

/** A rule as the CLI writes it: `--when 'cpu > 90' --for 5m --clear-below 80`, channels by name. */
const cliRule = orgRef.extend({
  name,
  when: z.string().min(1).max(600),
  forSec: z.number().int().min(0).max(7 * 86_400).optional(),
  clear: z.number().min(0).max(1e9).optional(),
  /** Script checks: how often, and how long a run may take (seconds); bounded again by the condition's schema. */
  everySec: z.number().int().min(0).max(86_400).optional(),
  timeoutSec: z.number().int().min(0).max(3_600).optional(),
  severity: severity.default('warning'),
  channels: z.array(z.string().min(1).max(200)).max(20).default([]),
  ticket: z.boolean().default(false),
  /** `site:NAME`, `group:NAME` or `tag:NAME`; omitted: the whole organization. */
  scope: z.string().min(1).max(300).optional(),
  /** Devices (names or ids) the rule leaves out. */
  exclude: z.array(z.string().min(1).max(255)).max(500).default([]),
}).strict();

/** What these procedures use, built in the composition root (app/). */
export interface AlertsAdminRouterDeps {
  audit: Audit;
  db: RelationalStore;
  env: Env;
}

/** The `ninjait channel|rule|alerts` commands: the local admin, across organizations. */
export function createAlertsAdminRouter(deps: AlertsAdminRouterDeps) {
  return router({
    channels: router({
      create: localAdminProcedure.input(channelFields.extend(orgRef.shape)).mutation(async ({ ctx, input: { org, ...fields } }) => {
        const organizationId = await orgId(deps.db, org);
        const created = await createCheckedChannel(deps.db, organizationId, fields, deps.env.WEBHOOK_ALLOW_PRIVATE);
        await deps.audit(ctx, { action: 'channel.create', organizationId, resourceId: created.channel.id, details: { name: fields.name, kind: fields.kind, by: 'local-admin' } });
        return created;
      }),
      list: localAdminProcedure.input(orgRef.strict()).query(async ({ input }) => listChannels(deps.db, await orgId(deps.db, input.org))),
    }),
    rules: router({
      create: localAdminProcedure.input(cliRule).mutation(async ({ ctx, input }) => {
        const organizationId = await orgId(deps.db, input.org);
        const rule = await createRule(deps.db, organizationId, {
          name: input.name, condition: await whenOf(deps.db, organizationId, input.when, input), severity: input.severity,
          channelIds: await channelIdsByRef(deps.db, organizationId, input.channels), openTicket: input.ticket, closeTicketOnResolve: true, enabled: true,
          ...(input.scope ? { scope: await scopeByName(deps.db, organizationId, input.scope) } : {}),
          excludedDeviceIds: await Promise.all(input.exclude.map((device) => resolveDeviceRef(deps.db, device, organizationId))),
        });
        await deps.audit(ctx, { action: 'alert_rule.create', organizationId, resourceId: rule.id, details: { name: rule.name, condition: rule.condition, by: 'local-admin' } });
        return rule;
      }),
      /** Changes a rule's condition (by rule id or name); the rest stays. */
      update: localAdminProcedure.input(orgRef.extend({
        rule: z.string().min(1).max(200), when: z.string().min(1).max(600).optional(),
        forSec: z.number().int().min(0).max(7 * 86_400).optional(), clear: z.number().min(0).max(1e9).optional(),
        everySec: z.number().int().min(0).max(86_400).optional(), timeoutSec: z.number().int().min(0).max(3_600).optional(),
        severity: severity.optional(), enabled: z.boolean().optional(),
      }).strict()).mutation(async ({ ctx, input }) => {
        const organizationId = await orgId(deps.db, input.org);
        const current = await findRule(deps.db, organizationId, input.rule);
        const rule = await updateRule(deps.db, organizationId, current.id, {
          ...(input.when ? { condition: await whenOf(deps.db, organizationId, input.when, input) } : {}),
          ...(input.severity ? { severity: input.severity } : {}),
          ...(input.enabled !== undefined ? { enabled: input.enabled } : {}),
        });
        await deps.audit(ctx, { action: 'alert_rule.update', organizationId, resourceId: rule.id, details: { by: 'local-admin' } });
        return rule;
      }),
      list: localAdminProcedure.input(orgRef.strict()).query(async ({ input }) => listRules(deps.db, await orgId(deps.db, input.org))),
    }),
    alerts: router({
      list: localAdminProcedure.input(alertFilter.extend(orgRef.shape))
        .query(async ({ input: { org, ...filter } }) => listAlerts(deps.db, await orgId(deps.db, org), filter)),
    }),
  });
}
