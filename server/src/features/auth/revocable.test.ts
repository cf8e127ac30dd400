import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryCache, type CacheStore } from '../../stores/cache/index.ts';
import { createSessions } from './sessions.ts';
import { hashSecret } from '../../platform/secrets.ts';
import { revocable } from './revocable.ts';

const USER = { userId: 'u1', email: 'u1@example.test', role: 'viewer' as const, organizationId: 'o1' };

/** Yields `tick` every few ms until its signal aborts; counts how it ended. */
function ticker(state: { ended: boolean }) {
  return async function* (signal: AbortSignal) {
    try {
      while (!signal.aborted) {
        yield 'tick';
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    } finally {
      state.ended = true;
    }
  };
}

/** Never yields and ignores its signal: revocation must not depend on the stream's cooperation. */
async function* stuck(): AsyncGenerator<string> {
  await new Promise(() => undefined);
  yield 'never';
}

/** Drains `stream`; the error code it ended with (null when it completed) and how many items it gave. */
async function run(stream: AsyncGenerator<string>, onFirst?: () => Promise<void> | void) {
  let items = 0;
  try {
    for await (const _item of stream) {
      if (++items === 1) await onFirst?.();
    }
    return { code: null, items };
  } catch (error) {
    return { code: (error as { code?: string }).code ?? String(error), items };
  }
}

describe('revocable subscriptions', () => {
  let cache: CacheStore;
  afterEach(async () => cache?.close());

  it('ends at logout with UNAUTHORIZED, and lets the inner stream clean up', async () => {
    cache = createMemoryCache();
    const sessions = createSessions(cache);
    const token = await sessions.create(USER);
    const other = await sessions.create(USER);
    const state = { ended: false };
    const untouched = revocable(sessions, { sessionToken: other, userId: 'u1' }, undefined, ticker({ ended: false }));
    await untouched.next();
    const outcome = await run(revocable(sessions, { sessionToken: token, userId: 'u1' }, undefined, ticker(state)), () => sessions.destroy(token, 'u1'));
    expect(outcome.code).toBe('UNAUTHORIZED');
    expect(state.ended).toBe(true);
    // Another session of the same person goes on.
    expect((await untouched.next()).done).toBe(false);
    await untouched.return(undefined);
  });

  it("ends every stream of a user whose sessions all ended (role or password change), even a stuck one", async () => {
    cache = createMemoryCache();
    const sessions = createSessions(cache);
    const token = await sessions.create(USER);
    const ended = run(revocable(sessions, { sessionToken: token, userId: 'u1' }, undefined, stuck));
    await new Promise((resolve) => setTimeout(resolve, 10));
    await sessions.destroyAllFor('u1');
    expect((await ended).code).toBe('UNAUTHORIZED');
  });

  it('ends with NOT_FOUND when a device it shows is revoked, and not for other devices', async () => {
    cache = createMemoryCache();
    const sessions = createSessions(cache);
    const token = await sessions.create(USER);
    const outcome = await run(revocable(sessions, { sessionToken: token, userId: 'u1', deviceIds: ['d1'] }, undefined, ticker({ ended: false })), async () => {
      await sessions.revokeDevice('d2');
      await sessions.revokeDevice('d1');
    });
    expect(outcome.code).toBe('NOT_FOUND');
  });

  it('ends within the recheck interval when the revocation message was lost', async () => {
    cache = createMemoryCache();
    const sessions = createSessions(cache);
    const token = await sessions.create(USER);
    const started = Date.now();
    // The session disappears without an announcement (a cache that dropped the publish).
    const outcome = run(revocable(sessions, { sessionToken: token, userId: 'u1' }, undefined, stuck, { recheckMs: 30 }));
    await cache.del([`session:${hashSecret(token)}`]);
    expect((await outcome).code).toBe('UNAUTHORIZED');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('completes quietly when the client unsubscribes, and runs onRevoked only for revocations', async () => {
    cache = createMemoryCache();
    const sessions = createSessions(cache);
    const token = await sessions.create(USER);
    const controller = new AbortController();
    const revoked: string[] = [];
    const outcome = await run(
      revocable(sessions, { sessionToken: token, userId: 'u1' }, controller.signal, ticker({ ended: false }), { onRevoked: async (reason) => void revoked.push(reason) }),
      () => controller.abort(),
    );
    expect(outcome.code).toBeNull();
    expect(revoked).toEqual([]);
  });
});
