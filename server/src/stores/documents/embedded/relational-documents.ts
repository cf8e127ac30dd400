import type { RelationalStore } from '../../relational/index.ts';
import type { StoreHealth } from '../../types.ts';
import type { AuditEntry, AuditQuery, DocumentStore, LogEntry, LogQuery } from '../types.ts';

interface Row {
  ts: Date;
  doc: Record<string, unknown>;
}

/** Builds `WHERE` clauses with numbered parameters. */
function conditions() {
  const clauses: string[] = [];
  const params: unknown[] = [];
  return {
    add(clause: (p: string) => string, value: unknown) {
      if (value === undefined) return;
      params.push(value);
      clauses.push(clause(`$${params.length}`));
    },
    where: () => (clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : ''),
    limit(n: number) {
      params.push(n);
      return `LIMIT $${params.length}`;
    },
    params,
  };
}

const toLog = (row: Row): LogEntry => ({ ...(row.doc as unknown as LogEntry), timestamp: new Date(row.ts) });
const toAudit = (row: Row): AuditEntry => ({ ...(row.doc as unknown as AuditEntry), timestamp: new Date(row.ts) });

/**
 * Documents as JSONB rows in PostgreSQL or PGlite (tables from migration 004). Inserts are
 * one statement per batch, `ON CONFLICT DO NOTHING` on the id, so replays store nothing new.
 */
export function createRelationalDocumentStore(db: RelationalStore): DocumentStore {
  return {
    engine: 'relational',
    logs: {
      async insert(entries: readonly LogEntry[]) {
        if (entries.length === 0) return;
        await db.query(
          `INSERT INTO logs (id, ts, level, organization_id, device_id, doc)
           SELECT e.doc->>'id', (e.doc->>'timestamp')::timestamptz, e.doc->>'level',
             (e.doc->>'organizationId')::uuid, (e.doc->>'deviceId')::uuid, e.doc - 'timestamp'
           FROM jsonb_array_elements($1::jsonb) AS e(doc)
           ON CONFLICT (id) DO NOTHING`,
          [JSON.stringify(entries)],
        );
      },
      async find(query: LogQuery) {
        const where = conditions();
        where.add((p) => `level = ${p}`, query.level);
        where.add((p) => `organization_id = ${p}::uuid`, query.organizationId);
        where.add((p) => `device_id = ${p}::uuid`, query.deviceId);
        where.add((p) => `ts >= ${p}`, query.since);
        where.add((p) => `ts < ${p}`, query.until);
        const { rows } = await db.query<Row>(
          `SELECT ts, doc FROM logs ${where.where()} ORDER BY ts DESC, id ${where.limit(query.limit)}`, where.params);
        return rows.map(toLog);
      },
    },
    auditLog: {
      async insert(entries: readonly AuditEntry[]) {
        if (entries.length === 0) return;
        await db.query(
          `INSERT INTO audit_log (id, ts, organization_id, user_id, action, resource_id, doc)
           SELECT (e.doc->>'id')::uuid, (e.doc->>'timestamp')::timestamptz, (e.doc->>'organizationId')::uuid,
             (e.doc->>'userId')::uuid, e.doc->>'action', e.doc->>'resourceId', e.doc - 'timestamp'
           FROM jsonb_array_elements($1::jsonb) AS e(doc)
           ON CONFLICT (id) DO NOTHING`,
          [JSON.stringify(entries)],
        );
      },
      async find(query: AuditQuery) {
        const where = conditions();
        where.add((p) => `organization_id = ${p}::uuid`, query.organizationId);
        where.add((p) => `user_id = ${p}::uuid`, query.userId);
        where.add((p) => `action = ${p}`, query.action);
        where.add((p) => `resource_id = ${p}`, query.resourceId);
        where.add((p) => `ts >= ${p}`, query.since);
        where.add((p) => `ts < ${p}`, query.until);
        const { rows } = await db.query<Row>(
          `SELECT ts, doc FROM audit_log ${where.where()} ORDER BY ts DESC, id ${where.limit(query.limit)}`, where.params);
        return rows.map(toAudit);
      },
    },
    async init() {},
    async expireLogs(before: Date) {
      const { rowCount } = await db.query('DELETE FROM logs WHERE ts < $1', [before]);
      return rowCount;
    },
    async sizeBytes() {
      const { rows } = await db.query<{ bytes: number }>(
        `SELECT (pg_total_relation_size('logs') + pg_total_relation_size('audit_log'))::bigint AS bytes`);
      return rows[0]?.bytes ?? 0;
    },
    async health(): Promise<StoreHealth> {
      return { ...(await db.health()), engine: `documents-on-${db.engine}` };
    },
    // The relational store belongs to the app, which closes it.
    async close() {},
  };
}
