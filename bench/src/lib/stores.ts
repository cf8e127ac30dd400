import { createScratchDatabase } from '@ninjait/server/testing';
import { scratchDatabaseDrop } from './scratch.ts';

/** Which stores a run uses: the embedded defaults, or the real ones named by the environment. */
export interface StoreChoice {
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
}

export function storesFromEnv(env: NodeJS.ProcessEnv = process.env): StoreChoice {
  return { databaseUrl: env.DATABASE_URL || undefined, redisUrl: env.REDIS_URL || undefined };
}

export function describeStores(stores: StoreChoice): string {
  return `${stores.databaseUrl ? 'postgresql' : 'pglite'}+${stores.redisUrl ? 'redis' : 'memory'}`;
}

/**
 * A fresh database per benchmark on the configured PostgreSQL, dropped afterwards, so runs
 * never see each other's rows and the server migrates from scratch like a first start.
 */
export async function scratchDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const database = (await createScratchDatabase(baseUrl, 'ninjait_bench'))!;
  return { url: database.url, drop: scratchDatabaseDrop(() => database.drop()) };
}
