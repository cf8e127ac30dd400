import {
  CamelCasePlugin, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler,
  type Compilable, type CompiledQuery, type ConnectionProvider, type DatabaseConnection, type Dialect, type Driver, type QueryResult,
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

/** Hands out the one connection an executor is: Kysely asks its provider for a connection per query. */
class ExecutorConnectionProvider implements ConnectionProvider {
  constructor(private readonly connection: DatabaseConnection) {}
  provideConnection<T>(consumer: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    return consumer(this.connection);
  }
}

/** Kysely's own transactions are refused: one way to open a transaction, so every engine's rules (PgBouncer, PGlite's single connection) hold. */
const refusingDriver: Driver = {
  async init() {},
  async acquireConnection() {
    throw new Error('Typed queries run on an executor: query through typed(executor)');
  },
  async beginTransaction() {
    throw new Error('Open transactions with RelationalStore.transaction and query its executor');
  },
  async commitTransaction() {},
  async rollbackTransaction() {},
  async releaseConnection() {},
  async destroy() {},
};

const dialect: Dialect = {
  createAdapter: () => new PostgresAdapter(),
  createDriver: () => refusingDriver,
  createIntrospector: (db) => new PostgresIntrospector(db),
  createQueryCompiler: () => new PostgresQueryCompiler(),
};

export type Db = Kysely<Database>;

/**
 * One plugin for every instance: it memoizes each name's snake_case and camelCase forms, and a
 * transaction gets an instance of its own, so a plugin per instance converted every name again
 * on every transaction.
 */
const camelCase = new CamelCasePlugin({ maintainNestedObjectKeys: true });

/** Compiles only: a query built on it is never run through it. */
const compiler = new Kysely<Database>({ dialect, plugins: [camelCase] });

/**
 * The compiler's executor bound to one of ours: what Kysely itself does for its transactions.
 * Building a whole instance (dialect, driver, compiler, executor) per transaction cost more than
 * the small statements run in it.
 */
function boundTo(executor: SqlExecutor): Db {
  return new Kysely<Database>({
    config: { dialect, plugins: [camelCase] }, dialect, driver: refusingDriver,
    executor: compiler.getExecutor().withConnectionProvider(new ExecutorConnectionProvider(new ExecutorConnection(executor))),
  });
}

const built = new WeakMap<SqlExecutor, Db>();

/**
 * Typed queries on this executor (the store or an open transaction): tables and columns come from
 * schema.ts, generated from the migrations, so a renamed column is a compile error. Columns are
 * camelCase in TypeScript and snake_case in SQL (CamelCasePlugin); JSON values keep their keys.
 */
export function typed(executor: SqlExecutor): Db {
  let db = built.get(executor);
  if (!db) {
    db = boundTo(executor);
    built.set(executor, db);
  }
  return db;
}


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

/** A typed query compiled once whose parameters are bound by name (see compileNamed). */
export interface NamedQuery<P> {
  sql: string;
  /** The parameter list for these values, in the order the SQL numbers them. */
  bind(values: { [K in keyof P]: unknown }): unknown[];
}

/**
 * compileOnce for statements with many parameters, some used twice: the builder gets one
 * placeholder per name (`placeholders`, all distinct values) and each compiled parameter is
 * traced back to its name, so calls bind by name and the order cannot be got wrong. A
 * parameter that is no placeholder (a value the builder made up) throws at load time.
 */
export function compileNamed<P extends Record<string, string | number>>(placeholders: P, build: (db: Db, p: P) => Compilable): NamedQuery<P> {
  const names = Object.keys(placeholders) as (keyof P & string)[];
  if (new Set(names.map((name) => placeholders[name])).size !== names.length) throw new Error('Placeholders of a named query must be distinct values');
  const compiled = build(compiler, placeholders).compile();
  const order = compiled.parameters.map((value) => {
    const name = names.find((candidate) => placeholders[candidate] === value);
    if (name === undefined) throw new Error(`A parameter of a named query is no placeholder (${String(value)}): ${compiled.sql}`);
    return name;
  });
  return { sql: compiled.sql, bind: (values) => order.map((name) => values[name]) };
}
