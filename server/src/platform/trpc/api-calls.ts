import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { TRPCError } from '@trpc/server';
import { API_KEY_PREFIX } from '@ninjait/shared';
import type { Context } from './context.ts';
import type { ApiCallSource } from './api-call-source.ts';

const NO_ID = '00000000-0000-0000-0000-000000000000';
const IDENTITY_CACHE_MAX = 10_000;


interface Identity { userId: string; organizationId: string; source: ApiCallSource }

/** Session token or API key → who, so recording a call does not read the session store again each time. */
const identities = new Map<string, Identity>();

async function identify(ctx: Context): Promise<Identity> {
  if (ctx.device) return { userId: NO_ID, organizationId: ctx.device.organizationId, source: 'agent' };
  const token = ctx.sessionToken;
  if (!token) return { userId: NO_ID, organizationId: NO_ID, source: 'person' };
  const known = identities.get(token);
  if (known) return known;
  const source: ApiCallSource = token.startsWith(API_KEY_PREFIX) ? 'api_key' : 'person';
  const user = source === 'api_key' ? await ctx.gate.apiKeyHolder(token) : await ctx.gate.session(token);
  if (!user) return { userId: NO_ID, organizationId: NO_ID, source };
  if (identities.size >= IDENTITY_CACHE_MAX) identities.clear();
  const identity = { userId: user.userId, organizationId: user.organizationId, source };
  identities.set(token, identity);
  return identity;
}

type CallResult = { ok: true } | { ok: false; error: TRPCError };

/**
 * tRPC middleware: every call becomes an `api_calls` row (path, type, HTTP status, time, who).
 * The row is handed to the in-memory recorder after the call finished and is never awaited.
 */
export async function recordApiCall<R extends CallResult>(opts: { ctx: Context; path: string; type: string; next: () => Promise<R> }): Promise<R> {
  const started = performance.now();
  const startedAtMs = Date.now();
  const result = await opts.next();
  const record = opts.ctx.gate.recordCall;
  if (record) {
    const responseTimeMs = Math.round(performance.now() - started);
    const statusCode = result.ok ? 200 : getHTTPStatusCodeFromError(result.error);
    void identify(opts.ctx)
      .catch((): Identity => ({ userId: NO_ID, organizationId: NO_ID, source: 'person' }))
      .then((who) => record({
        timestamp: Math.floor(startedAtMs / 1000),
        organization_id: who.organizationId,
        endpoint: opts.path,
        method: opts.type,
        status_code: statusCode,
        response_time_ms: responseTimeMs,
        user_id: who.userId,
        source: who.source,
      }));
  }
  return result;
}
