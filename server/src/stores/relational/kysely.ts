import {
  CamelCasePlugin, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler,
  type Compilable, type CompiledQuery, type DatabaseConnection, type Dialect, type Driver, type QueryResult,
} from 'kysely';
import type { Database } from './schema.ts';
import type { SqlExecutor } from './types.ts';

// Kysely runs over our own relational port rather than its pg/PGlite dialects: the port already
// works on both engines, inside our transactions (store.transaction hands out an executor), and
// through the instrumentation and PgBouncer-safe unnamed statements the stores set up. Kysely only
// compiles typed queries to PostgreSQL text and parameters; the executor runs them.

class ExecutorConnection implements DatabaseConnection {
  constructor(private readonly executor: SqlExecutor) {}

  async executeQuery<Row>(compiled: CompiledQuery): Promise<QueryResult<Row>> {
    const result = await this.executor.query<Row>(compiled.sql, compiled.parameters);
    return { rows: result.rows, numAffectedRows: BigInt(result.rowCount) };
  }

  async *streamQuery<Row>(): AsyncIterableIterator<QueryResult<Row>> {
    throw new Error('Streaming queries are not supported: page with keyset queries instead');
  }
}

class ExecutorDriver implements Driver {
  constructor(private readonly executor: SqlExecutor) {}
  async init() {}
  async acquireConnection() {
    return new ExecutorConnection(this.executor);
  }
  async beginTransaction(): Promise<void> {
    // One way to open a transaction, so every engine's rules (PgBouncer, PGlite's single connection) hold.
    throw new Error('Open transactions with RelationalStore.transaction and query its executor');
  }
  async commitTransaction() {}
  async rollbackTransaction() {}
  async releaseConnection() {}
  async destroy() {}
}

function executorDialect(executor: SqlExecutor): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new ExecutorDriver(executor),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
}

export type Db = Kysely<Database>;

const built = new WeakMap<SqlExecutor, Db>();

/**
 * Typed queries on this executor (the store or an open transaction): tables and columns come from
 * schema.ts, generated from the migrations, so a renamed column is a compile error. Columns are
 * camelCase in TypeScript and snake_case in SQL (CamelCasePlugin); JSON values keep their keys.
 */
export function typed(executor: SqlExecutor): Db {
  let db = built.get(executor);
  if (!db) {
    db = new Kysely<Database>({ dialect: executorDialect(executor), plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })] });
    built.set(executor, db);
  }
  return db;
}

/** Compiles only: a query built on it is never run through it. */
const compiler = new Kysely<Database>({
  dialect: executorDialect({ query: () => Promise.reject(new Error('A query compiled once runs through an executor of its own')) }),
  plugins: [new CamelCasePlugin({ maintainNestedObjectKeys: true })],
});

/**
 * A typed query compiled once to its SQL text, for the ingest hot path (tens of thousands of rows
 * a second), where compiling per statement and mapping each row's keys cost more than the SQL:
 * the columns are still checked against schema.ts at compile time, the caller runs the text with
 * `executor.query(text, parameters)` and reads the rows' snake_case columns. `parameters` are the
 * placeholder values the builder used, in the order the caller will pass the real ones; a
 * different order throws at load time, so a reordered query cannot bind the wrong value.
 */
export function compileOnce(build: (db: Db) => Compilable, parameters: readonly unknown[]): string {
  const compiled = build(compiler).compile();
  const same = compiled.parameters.length === parameters.length && compiled.parameters.every((value, i) => value === parameters[i]);
  if (!same) throw new Error(`Parameters of a query compiled once are not in the order given: ${compiled.sql}`);
  return compiled.sql;
}
