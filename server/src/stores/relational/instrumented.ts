import { timed, type QueryObserver } from '../../platform/obs/query-observer.ts';
import type { RelationalStore, SqlExecutor } from './types.ts';

const STORE = 'relational';
const VERBS = new Set(['select', 'insert', 'update', 'delete', 'with', 'begin', 'commit', 'rollback', 'lock', 'create', 'alter', 'drop', 'vacuum', 'analyze']);

/**
 * The statement's first keyword, as the `operation` label: a bounded set, so the histogram has a
 * few series, not one per query text. Leading comments and parentheses are skipped.
 */
export function sqlOperation(sql: string): string {
  const verb = /^[\s(]*(?:--[^\n]*\n[\s(]*|\/\*[^]*?\*\/[\s(]*)*([a-z]+)/i.exec(sql)?.[1]?.toLowerCase() ?? '';
  return VERBS.has(verb) ? verb : 'other';
}

/**
 * The same store with every statement timed (`ninjait_store_query_duration_seconds{store="relational"}`),
 * inside transactions too. The text logged for a slow one has `$n` placeholders, never the values.
 */
export function instrumentRelationalStore(store: RelationalStore, observer: QueryObserver): RelationalStore {
  const observed = (executor: SqlExecutor): SqlExecutor['query'] =>
    (sql, params) => timed(observer, STORE, sqlOperation(sql), () => sql, () => executor.query(sql, params));
  return {
    engine: store.engine,
    query: observed(store),
    exec: (sql) => timed(observer, STORE, 'exec', () => sql, () => store.exec(sql)),
    transaction: (fn) => store.transaction((tx) => fn({ query: observed(tx) })),
    health: () => store.health(),
    close: () => store.close(),
  };
}
