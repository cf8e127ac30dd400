import { API_KEY_PREFIX, apiKeyScopeSchema, roleAtLeast, type ApiKeyScope } from '@ninjait/shared';
import { AppError, notFound } from '../../platform/errors.ts';
import { hashSecret, newSecret } from '../../platform/secrets.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import type { SessionUser } from '../../platform/trpc/caller.ts';
import { findLiveKey, insertApiKey, listApiKeys, revokeApiKey, touchApiKey, type ApiKeyRecord } from './repository.ts';
import { keyRoleFor } from './scopes.ts';

/** Characters of the key kept in clear for people to tell keys apart: the prefix and 6 random ones. */
const SHOWN_CHARS = API_KEY_PREFIX.length + 6;
/** `last_used_at` is written at most this often per key: a busy integration must not mean a write per call. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** Whom a call made with an API key acts for: the creator, narrowed to the key's scopes. */
export interface KeyCaller extends SessionUser {
  apiKeyId: string;
}

export const isApiKey = (token: string) => token.startsWith(API_KEY_PREFIX);

/** API keys: created by a person at the console, shown once, checked on every call that carries one. */
export function createApiKeys(db: SqlExecutor) {
  return {
    /** A new key for `user`; the answer is the only place the key ever appears. */
    async create(user: SessionUser, input: { name: string; scopes: ApiKeyScope[]; expiresInDays: number | null }): Promise<{ key: string; record: ApiKeyRecord }> {
      const key = newSecret(API_KEY_PREFIX);
      const record = await insertApiKey(db, {
        organizationId: user.organizationId, createdBy: user.userId, name: input.name, keyHash: hashSecret(key),
        keyPrefix: key.slice(0, SHOWN_CHARS), scopes: [...new Set(input.scopes)], expiresInDays: input.expiresInDays,
      });
      return { key, record };
    },
    /** Admins see every key of their organization; others their own. */
    list(user: SessionUser): Promise<ApiKeyRecord[]> {
      return listApiKeys(db, user.organizationId, roleAtLeast(user.role, 'admin') ? {} : { createdBy: user.userId });
    },
    async revoke(user: SessionUser, id: string): Promise<void> {
      const revoked = await revokeApiKey(db, user.organizationId, id, roleAtLeast(user.role, 'admin') ? null : user.userId);
      if (!revoked) throw notFound('API key');
    },
    /** The creator of a live key, as sessions answer for a token: WebSocket admission and open subscriptions ask. */
    async holder(key: string): Promise<SessionUser | null> {
      const holder = await findLiveKey(db, hashSecret(key));
      return holder ? { userId: holder.userId, email: holder.email, role: holder.role, organizationId: holder.organizationId } : null;
    },
    /**
     * The caller for one procedure call made with `key`: UNAUTHORIZED when the key is unknown,
     * revoked or expired (or its creator removed), FORBIDDEN when its scopes do not cover `path`.
     */
    async authorize(key: string, path: string, type: 'query' | 'mutation' | 'subscription', ip: string | null): Promise<KeyCaller> {
      const holder = await findLiveKey(db, hashSecret(key));
      if (!holder) throw new AppError('UNAUTHORIZED', 'This API key is unknown, revoked or expired');
      const scopes = holder.scopes.flatMap((scope) => {
        const parsed = apiKeyScopeSchema.safeParse(scope);
        return parsed.success ? [parsed.data] : [];
      });
      const role = keyRoleFor(scopes, holder.role, path, type);
      if (!role) throw new AppError('FORBIDDEN', `This API key's scopes (${scopes.join(', ')}) do not allow ${path}`);
      if (!holder.lastUsedAt || Date.now() - holder.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) await touchApiKey(db, holder.keyId, ip);
      return { apiKeyId: holder.keyId, userId: holder.userId, email: holder.email, role, organizationId: holder.organizationId };
    },
  };
}
export type ApiKeys = ReturnType<typeof createApiKeys>;
