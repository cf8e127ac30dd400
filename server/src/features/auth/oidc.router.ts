import { z } from 'zod';
import { roleSchema } from '@ninjait/shared';
import { AppError } from '../../platform/errors.ts';
import { router, userProcedure } from '../../platform/trpc/trpc.ts';
import { CALLBACK_PATH, issuerAllowed, SCOPES } from './oidc.ts';
import { deleteSsoSettings, saveSsoSettings, ssoSettings } from './oidc-repository.ts';
import { assertMayGrant } from './people-rules.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Env } from '../../platform/config/index.ts';
import type { SecretBox } from '../../platform/secret-box.ts';

const MAX_RULES = 20;

const settingsSchema = z.object({
  issuer: z.url().max(500).refine(issuerAllowed, 'The issuer must be an https:// URL (plain http only for a provider on this machine)'),
  clientId: z.string().trim().min(1).max(255),
  /** Left out to keep the stored one: the console never receives it back. */
  clientSecret: z.string().min(1).max(1024).optional(),
  emailDomain: z.string().trim().toLowerCase().regex(/^(?=.{1,253}$)[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'An email domain such as example.com').nullable(),
  roleClaim: z.string().trim().min(1).max(100).regex(/^[A-Za-z0-9_:./-]+$/, 'A claim name such as groups or roles'),
  roleRules: z.array(z.object({ value: z.string().trim().min(1).max(255), role: roleSchema }).strict())
    .min(1, 'Add at least one rule: people whose claim matches no rule are refused').max(MAX_RULES),
  ssoOnly: z.boolean(),
  countsAsTwoFactor: z.boolean(),
}).strict();

/** What these procedures use, built in the composition root (app/). */
export interface SsoRouterDeps {
  audit: Audit;
  db: RelationalStore;
  env: Env;
  secretBox: SecretBox;
}

/**
 * An organization's single sign-on (OpenID Connect) settings, for its admins. The client secret
 * goes in and never comes out. A rule may grant at most the admin's own role (as adding someone would).
 */
export function createSsoRouter(deps: SsoRouterDeps) {
  return router({
    settings: userProcedure('admin').query(async ({ ctx }) => ({
      settings: await ssoSettings(deps.db, ctx.user.organizationId),
      // What to register at the provider.
      redirectUri: deps.env.PUBLIC_URL ? `${deps.env.PUBLIC_URL.replace(/\/+$/, '')}${CALLBACK_PATH}` : null,
      callbackPath: CALLBACK_PATH,
      scopes: SCOPES,
    })),
    save: userProcedure('admin').input(settingsSchema).mutation(async ({ ctx, input }) => {
      for (const rule of input.roleRules) assertMayGrant(ctx.user, rule.role);
      const saved = await saveSsoSettings(deps.db, deps.secretBox, ctx.user.organizationId, input);
      const { clientSecret, ...shown } = input;
      await deps.audit(ctx, { action: 'organization.sso_update', resourceId: ctx.user.organizationId, details: { ...shown, newClientCredential: clientSecret !== undefined } });
      return saved;
    }),
    remove: userProcedure('admin').mutation(async ({ ctx }) => {
      if (!(await deleteSsoSettings(deps.db, ctx.user.organizationId))) throw new AppError('NOT_FOUND', 'Single sign-on is not set up');
      await deps.audit(ctx, { action: 'organization.sso_remove', resourceId: ctx.user.organizationId });
      return { ok: true };
    }),
  });
}
