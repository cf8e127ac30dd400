import { z } from 'zod';
import { authenticateDevice } from '../devices/index.ts';
import { createEnrollmentToken, TOKEN_MAX_LIFETIME_SEC } from '../enrollment/index.ts';
import { findOrganization } from '../organizations/index.ts';
import { AppError, notFound } from '../../platform/errors.ts';
import { installOffer, installServerUrl } from './install-offer.ts';
import { publishHelp } from './publish-help.ts';
import { reportedAgentVersion } from './repository.ts';
import { downloadPath, releaseCatalog, releasesDir } from './releases.ts';
import { localAdminProcedure, publicProcedure, router, userProcedure } from '../../platform/trpc/trpc.ts';
import type { Audit } from '../audit/index.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { Env } from '../../platform/config/index.ts';
import type { RateLimiter } from '../auth/index.ts';

/** Confirmation polls per device address per rate-limit window (the launcher polls every few seconds for minutes). */
const CONFIRM_PER_WINDOW = 600;
const HOUR_SEC = 3600;

const installLinkInput = z.object({
  /** Where devices reach the server; PUBLIC_URL wins when set (the console passes its origin). */
  serverUrl: z.url().max(2048).optional(),
  /** Short-lived by default: the token travels in a URL and a shell history. */
  expiresInSec: z.number().int().min(60).max(TOKEN_MAX_LIFETIME_SEC).default(HOUR_SEC),
  /** Single-use by default; raise it to roll out to many machines with one line. */
  maxUses: z.number().int().min(1).max(100_000).default(1),
  name: z.string().min(1).max(255).default('Install link'),
});

/**
 * A new token and, for it, every install line whose package this server has (the others say
 * how to publish one). The URL is checked before the token is made, so a refusal spends nothing.
 */
async function newInstallLink(services: UpdatesRouterDeps, organizationId: string, createdBy: string | null, input: z.infer<typeof installLinkInput>) {
  const serverUrl = installServerUrl(services.env.PUBLIC_URL ?? input.serverUrl ?? `http://127.0.0.1:${services.env.PORT}`);
  const { token, record } = await createEnrollmentToken(services.db, {
    organizationId, createdBy, name: input.name, expiresInSec: input.expiresInSec, maxUses: input.maxUses,
  });
  const releases = releaseCatalog(releasesDir(services.env)).list();
  const offer = installOffer({ serverUrl, token, releases, publish: publishHelp(services.env) });
  return { token, tokenId: record.id, name: record.name, expiresAt: record.expiresAt, maxUses: record.maxUses, ...offer };
}

/** What these procedures use, built in the composition root (app/). */
export interface UpdatesRouterDeps {
  audit: Audit;
  db: RelationalStore;
  env: Env;
  rateLimit: RateLimiter;
}

export function createUpdatesRouter(deps: UpdatesRouterDeps) {
  return router({
  /** What an agent's launcher asks: the newest signed bundle for its platform. Versions are public. */
  check: publicProcedure
    .input(z.object({ platform: z.enum(['linux', 'darwin', 'win32']), arch: z.string().regex(/^[a-z0-9_]{1,16}$/), version: z.string().max(64) }).strict())
    .query(({ input }) => {
      const release = releaseCatalog(releasesDir(deps.env)).latest({ platform: input.platform, arch: input.arch, kind: 'bundle' });
      return { release, url: release ? downloadPath(release) : null };
    }),

  /**
   * Has this device reported `version` (in a heartbeat)? The launcher's proof that a new
   * version connected. Device credentials in a POST body; wrong ones are UNAUTHORIZED.
   */
  confirm: publicProcedure
    .input(z.object({ deviceId: z.uuid(), deviceSecret: z.string().min(16).max(256), version: z.string().max(64) }).strict())
    .mutation(async ({ ctx, input }) => {
      const verdict = await deps.rateLimit(`ip:${ctx.ip}`, 'updates.confirm', CONFIRM_PER_WINDOW);
      if (!verdict.allowed) throw new AppError('TOO_MANY_REQUESTS', `Too many confirmations; try again in ${verdict.resetInSec} s`);
      await authenticateDevice(deps.db, input.deviceId, input.deviceSecret);
      return { confirmed: (await reportedAgentVersion(deps.db, input.deviceId)) === input.version };
    }),

  /** Every signed artifact this server offers, newest first. */
  releases: userProcedure('admin').query(() => releaseCatalog(releasesDir(deps.env)).list()),

  /** A fresh token (short-lived and single-use by default) and the install lines this server can serve, for the console. */
  installLinks: userProcedure('admin')
    .input(installLinkInput.strict())
    .mutation(async ({ ctx, input }) => {
      const link = await newInstallLink(deps, ctx.user.organizationId, ctx.user.userId, input);
      await deps.audit(ctx, { action: 'token.create', resourceId: link.tokenId, details: { name: input.name, maxUses: link.maxUses, expiresAt: link.expiresAt, via: 'install-link' } });
      return link;
    }),

  /** The same for the local CLI (`ninjait installer --org ...`), across organizations. */
  adminInstallLinks: localAdminProcedure
    .input(installLinkInput.extend({ org: z.string().min(1).max(255) }).strict())
    .mutation(async ({ ctx, input }) => {
      const org = await findOrganization(deps.db, input.org);
      if (!org) throw notFound(`Organization "${input.org}"`);
      const link = await newInstallLink(deps, org.id, null, input);
      await deps.audit(ctx, { action: 'token.create', organizationId: org.id, resourceId: link.tokenId, details: { name: input.name, maxUses: link.maxUses, expiresAt: link.expiresAt, via: 'install-link', by: 'local-admin' } });
      return link;
    }),
});
}
