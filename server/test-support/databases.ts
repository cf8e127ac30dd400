import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Set by `npm test` (test/runner): a database on DATABASE_URL's server that holds every
 * migration, which scratch databases are copied from. Creating and migrating an empty database
 * took about 415 ms (29 migrations, most of it PostgreSQL's CPU), a copy about 180 ms, and the
 * suite makes about a hundred of them.
 */
export const TEMPLATE_DATABASE_VARIABLE = 'NINJAIT_TEST_DATABASE_TEMPLATE';

/**
 * A throwaway database on the PostgreSQL at `DATABASE_URL`, so test files running in
 * parallel never see each other's rows. Returns null when no PostgreSQL is configured.
 * Already migrated when the runner made a template (see TEMPLATE_DATABASE_VARIABLE) and the
 * database is on that server, unless `empty`: what tests of migrating itself start from.
 */
export async function createScratchDatabase(
  baseUrl = process.env.DATABASE_URL, prefix = 'ninjait_test', options: { empty?: boolean } = {},
): Promise<{ url: string; drop(): Promise<void> } | null> {
  if (!baseUrl) return null;
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const template = process.env[TEMPLATE_DATABASE_VARIABLE];
  const fromTemplate = template && !options.empty && baseUrl === process.env.DATABASE_URL;
  await adminQuery(baseUrl, `CREATE DATABASE ${name}${fromTemplate ? ` TEMPLATE ${template}` : ''}`);
  return { url: databaseUrl(baseUrl, name), drop: () => dropDatabase(baseUrl, name) };
}

/**
 * A new database on `baseUrl`'s server with every migration applied, for scratch databases to be
 * copied from. Nobody may be connected to it while it is copied, so nothing but the copies uses it.
 */
export async function createMigratedTemplate(baseUrl: string): Promise<{ name: string; drop(): Promise<void> }> {
  const { openRelationalStore, migrate } = await import('../src/stores/relational/index.ts');
  const name = `ninjait_template_${randomBytes(5).toString('hex')}`;
  await adminQuery(baseUrl, `CREATE DATABASE ${name}`);
  const drop = () => dropDatabase(baseUrl, name);
  try {
    const db = await openRelationalStore({ databaseUrl: databaseUrl(baseUrl, name) });
    try {
      await migrate(db);
    } finally {
      await db.close();
    }
  } catch (error) {
    await drop();
    throw error;
  }
  return { name, drop };
}

/** `baseUrl` with its database replaced by `name`. */
function databaseUrl(baseUrl: string, name: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const dropDatabase = (baseUrl: string, name: string) => adminQuery(baseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);

async function adminQuery(baseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
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
