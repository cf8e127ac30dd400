import { migrate, openRelationalStore, type SqlExecutor } from '../../server/src/stores/relational/index.ts';

/** Where the generated Database interface lives; `npm run db:types` rewrites it. */
export const SCHEMA_FILE = 'server/src/stores/relational/schema.ts';

interface ColumnRow {
  table: string;
  column: string;
  udt: string;
  nullable: boolean;
  generated: boolean;
}

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const pascal = (name: string) => camel(name).replace(/^./, (c) => c.toUpperCase());

/** How node-postgres and PGlite hand each column type back (INT8 is parsed to a number by both stores). */
function tsType(udt: string): string {
  if (udt.startsWith('_')) return `${tsType(udt.slice(1))}[]`;
  switch (udt) {
    case 'int2': case 'int4': case 'int8': case 'float4': case 'float8': return 'number';
    case 'numeric': return 'Numeric';
    case 'bool': return 'boolean';
    case 'timestamptz': case 'timestamp': case 'date': return 'Timestamp';
    case 'json': case 'jsonb': return 'Json';
    case 'bytea': return 'Buffer';
    default: return 'string'; // uuid, text, varchar, inet, bpchar
  }
}

async function columns(db: SqlExecutor): Promise<ColumnRow[]> {
  const { rows } = await db.query<ColumnRow>(
    `SELECT c.table_name AS "table", c.column_name AS "column", c.udt_name AS udt,
       c.is_nullable = 'YES' AS nullable, (c.column_default IS NOT NULL OR c.is_identity = 'YES') AS generated
     FROM information_schema.columns c
     JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
     WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND c.table_name <> 'schema_migrations'
     ORDER BY c.table_name, c.ordinal_position`,
  );
  return rows;
}

/** The Database interface for Kysely, from the migrations applied to an empty in-memory PGlite. */
export async function generateSchema(): Promise<string> {
  const db = await openRelationalStore({});
  try {
    await migrate(db);
    const byTable = new Map<string, ColumnRow[]>();
    for (const row of await columns(db)) byTable.set(row.table, [...(byTable.get(row.table) ?? []), row]);
    const lines = [
      '// Generated from the migrations by `npm run db:types`: do not edit; change a migration and regenerate.',
      '// scripts/relational-schema/schema.test.ts fails when this file and the migrations disagree.',
      "import type { ColumnType } from 'kysely';",
      '',
      '/** Read as Date; written as a Date or an ISO string. */',
      'export type Timestamp = ColumnType<Date, Date | string, Date | string>;',
      '/** Read as parsed JSON; written as JSON text (JSON.stringify), as the SQL casts expect. */',
      'export type Json = ColumnType<unknown, string, string>;',
      '/** PostgreSQL numeric: text from node-postgres, to keep its precision. */',
      'export type Numeric = ColumnType<string, string | number, string | number>;',
      '/** A column with a default: optional on insert. */',
      'export type Default<T> = T extends ColumnType<infer S, infer I, infer U> ? ColumnType<S, I | undefined, U> : ColumnType<T, T | undefined, T>;',
      '',
    ];
    for (const [table, cols] of byTable) {
      lines.push(`export interface ${pascal(table)}Table {`);
      for (const col of cols) {
        let type = tsType(col.udt);
        if (col.nullable) type = `${type} | null`;
        if (col.generated) type = `Default<${type}>`;
        lines.push(`  ${camel(col.column)}: ${type};`);
      }
      lines.push('}', '');
    }
    lines.push('export interface Database {');
    for (const table of byTable.keys()) lines.push(`  ${camel(table)}: ${pascal(table)}Table;`);
    lines.push('}', '');
    return lines.join('\n');
  } finally {
    await db.close();
  }
}
