import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropRedisKeys, relationalEngines, startHarness, type Harness } from '@ninjait/server/testing';
import { readLocalAdminToken } from '@ninjait/server';
import { createTenant, startAgent, until, type Tenant } from '@ninjait/server/testing/commands';

/**
 * BullMQ with a hashtag prefix, the form Dragonfly needs (`--cluster_mode=emulated
 * --lock_on_hashtags`): a bulk job runs to the end on a real Redis here, and on Dragonfly in
 * .github/workflows/engines.yml (same file, REDIS_URL pointing at it). The tag is this run's own
 * (`{ninjait-<hex>}`), so runs sharing one Redis never touch each other's queue.
 */
const redisUrl = process.env.REDIS_URL;
if (!redisUrl) console.warn('REDIS_URL is not set: the hashtag QUEUE_PREFIX bulk-job test is skipped (it needs Redis or Dragonfly)');

describe.skipIf(!redisUrl)('a bulk job on BullMQ with QUEUE_PREFIX={hashtag}', () => {
  const tag = `{ninjait-${randomBytes(4).toString('hex')}}`;
  let h: Harness;
  let tenant: Tenant;

  beforeAll(async () => {
    const relational = relationalEngines().includes('postgres') ? 'postgres' : 'pglite';
    h = await startHarness({ relational, cache: 'redis', env: { QUEUE_PREFIX: tag, RATE_LIMIT_MAX: '100000' } });
    tenant = await createTenant(h.server.url, (await readLocalAdminToken(h.dataDir))!, 'Hashtag Queue');
  });

  afterAll(async () => {
    await h?.stop();
    // The harness drops its own cache key space; the queue's keys live under the tag.
    await dropRedisKeys(redisUrl!, [`${tag}:*`]);
  });

  it('runs every target through the queue, and every queue key carries the tag', async () => {
    const devices = [await tenant.enroll('tag-1'), await tenant.enroll('tag-2')];
    const agents = await Promise.all(devices.map((device) => startAgent(h.server.url, device)));
    try {
      const job = await tenant.technician.jobs.create.mutate({ deviceIds: devices.map((d) => d.deviceId), concurrency: 2, script: 'echo tagged' });
      await until(async () => (await tenant.technician.jobs.status.query({ id: job.id })).status === 'completed', 30_000, 100);
      const status = await tenant.technician.jobs.status.query({ id: job.id });
      expect(status.counts.succeeded).toBe(2);
      expect(status.targets.every((target) => target.status === 'succeeded' && target.exitCode === 0)).toBe(true);
    } finally {
      await Promise.all(agents.map((agent) => agent.stop()));
    }

    const redis = new Redis(redisUrl!);
    try {
      // The queue really ran under the tag: BullMQ wrote its keys there, and none elsewhere for this job.
      const tagged = await redis.keys(`${tag}:patch-deployment:*`);
      expect(tagged.length).toBeGreaterThan(0);
      expect(tagged.every((key) => key.startsWith(`${tag}:patch-deployment:`))).toBe(true);
    } finally {
      redis.disconnect();
    }
  }, 60_000);
});
