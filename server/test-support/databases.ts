import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A throwaway database on the PostgreSQL at `DATABASE_URL`, so test files running in
 * parallel never see each other's rows. Returns null when no PostgreSQL is configured.
 */
export async function createScratchDatabase(baseUrl = process.env.DATABASE_URL, prefix = 'ninjait_test'): Promise<{ url: string; drop(): Promise<void> } | null> {
  if (!baseUrl) return null;
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** Which relational engines a test file should run against: always PGlite, PostgreSQL when configured. */
export function relationalEngines(): ('pglite' | 'postgres')[] {
  if (!process.env.DATABASE_URL) console.warn('DATABASE_URL is not set: PostgreSQL variants of these tests are skipped (PGlite runs)');
  return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

export function cacheEngines(): ('memory' | 'redis')[] {
  if (!process.env.REDIS_URL) console.warn('REDIS_URL is not set: Redis variants of these tests are skipped (in-process cache runs)');
  return process.env.REDIS_URL ? ['memory', 'redis'] : ['memory'];
}
