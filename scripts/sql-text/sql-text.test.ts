import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const eslint = new ESLint({ cwd: root });

/** The lines the SQL-text rule flags in `code` as if it were the file at `path` (a line once, however many selectors match). */
async function sqlTextFindings(path: string, code: string): Promise<number[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return [...new Set(result!.messages.filter((message) => message.ruleId === 'no-restricted-syntax').map((message) => message.line))];
}

/**
 * The repository's own eslint config (as `npm run lint` runs it) on small sources: SQL text in a
 * feature's service or router is refused, wherever it is written; the stores, each feature's
 * clickhouse-queries.ts, typed Kysely with its `sql` fragments, and prose are let through.
 */
describe('SQL text only in stores and query modules (eslint)', () => {
  const service = [
    "const a = await analytics.query<{ n: string }>('SELECT count() AS n FROM api_calls');",
    'const b = await analytics.exec(`DELETE FROM billing_events WHERE event_date = {d:Date}`, { d });',
    "const c = await db.query('SELECT id FROM devices WHERE organization_id = $1', [org]);",
    'const d = `\n  WITH recent AS (SELECT 1) SELECT * FROM recent`;',
    'await analytics.exec(`${select} INTO OUTFILE x`);',
  ].join('\n');
  // The WITH template spans lines 4 and 5: the last statement is on line 6.
  const flagged = [1, 2, 3, 4, 6];

  it('refuses statements in a feature\'s service, router or job, and in app/', async () => {
    expect(await sqlTextFindings('server/src/features/billing/billing.ts', service)).toEqual(flagged);
    expect(await sqlTextFindings('server/src/features/analytics/analytics.router.ts', service)).toEqual(flagged);
    expect(await sqlTextFindings('server/src/app/system.router.ts', service)).toEqual(flagged);
  });

  it('lets the stores, the query modules and tests hold SQL text', async () => {
    expect(await sqlTextFindings('server/src/features/analytics/clickhouse-queries.ts', service)).toEqual([]);
    expect(await sqlTextFindings('server/src/stores/relational/migrate.ts', service)).toEqual([]);
    expect(await sqlTextFindings('server/src/features/billing/billing.int.test.ts', service)).toEqual([]);
  });

  it('lets typed Kysely, its sql fragments, HTTP methods and prose through', async () => {
    const typed = [
      "const rows = await typed(db).selectFrom('devices').select('id').where('organizationId', '=', org).execute();",
      'const total = sql<number>`count(d.id) FILTER (WHERE d.decommissioned_at IS NULL)::int`;',
      'const insert = sql`SELECT ${sink}, d FROM json_to_recordset(${json}::json) AS x(d uuid)`;',
      "const route = { method: 'DELETE', path: '/api/v1/devices/{id}' };",
      "const label = 'Select the devices to update';",
    ].join('\n');
    expect(await sqlTextFindings('server/src/features/devices/repository.ts', typed)).toEqual([]);
    expect(await sqlTextFindings('server/src/features/devices/devices.router.ts', typed)).toEqual([]);
  });
});
