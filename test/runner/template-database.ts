import { createMigratedTemplate, TEMPLATE_DATABASE_VARIABLE } from '@ninjait/server/testing/databases';
import type { Cleanup } from './cleanup.ts';

/**
 * One migrated database on the tests' PostgreSQL, which their scratch databases are copied from
 * (createScratchDatabase), dropped at the end of the run. Without it each test server migrates
 * an empty database; the suite is CPU-bound, and about a hundred such starts were a share of it.
 */
export async function migratedTemplate(databaseUrl: string | undefined, cleanup: Cleanup): Promise<{ env: Record<string, string>; line?: string }> {
  if (!databaseUrl) return { env: {} };
  const started = performance.now();
  try {
    const template = await createMigratedTemplate(databaseUrl);
    cleanup.add(`drop the template database ${template.name}`, template.drop);
    return {
      env: { [TEMPLATE_DATABASE_VARIABLE]: template.name },
      line: `PostgreSQL: scratch databases are copies of ${template.name}, migrated in ${Math.round(performance.now() - started)} ms`,
    };
  } catch (error) {
    return { env: {}, line: `PostgreSQL: no migrated template (${(error as Error).message}); each scratch database is migrated by its server` };
  }
}
