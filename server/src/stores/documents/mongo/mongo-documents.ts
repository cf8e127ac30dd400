import { MongoClient, type Collection, type Filter } from 'mongodb';
import { probeHealth } from '../../types.ts';
import type { AuditEntry, AuditQuery, DocumentStore, LogEntry, LogQuery } from '../types.ts';

type Stored<T extends { id: string }> = Omit<T, 'id'> & { _id: string };

export interface MongoDocumentOptions {
  url: string;
  database: string;
  /** Logs older than this are removed by MongoDB's TTL monitor. */
  logRetentionSec: number;
  serverSelectionTimeoutMs?: number;
}

function toStored<T extends { id: string }>(doc: T): Stored<T> {
  const { id, ...rest } = doc;
  return { _id: id, ...rest } as Stored<T>;
}

function fromStored<T extends { id: string }>(doc: Stored<T>): T {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest } as unknown as T;
}

function timeRange(since: Date | undefined, until: Date | undefined) {
  if (!since && !until) return undefined;
  return { ...(since ? { $gte: since } : {}), ...(until ? { $lt: until } : {}) };
}

/** Drops undefined keys: MongoDB would otherwise match `{ field: null }`. */
function defined<T extends object>(filter: T): T {
  return Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined)) as T;
}

/** Upserts with `$setOnInsert` keyed on the deterministic `_id`: a replay changes nothing. */
async function insertOnce<T extends { id: string }>(collection: Collection<Stored<T>>, docs: readonly T[]) {
  if (docs.length === 0) return;
  await collection.bulkWrite(
    docs.map((doc) => {
      const stored = toStored(doc);
      const { _id, ...rest } = stored;
      return { updateOne: { filter: { _id } as Filter<Stored<T>>, update: { $setOnInsert: rest as Partial<Stored<T>> }, upsert: true } };
    }),
    { ordered: false },
  );
}

/** The document port on MongoDB: `logs` with a TTL index, `audit_log` indexed for its lookups. */
export function createMongoDocumentStore(options: MongoDocumentOptions): DocumentStore {
  const client = new MongoClient(options.url, { ignoreUndefined: true, serverSelectionTimeoutMS: options.serverSelectionTimeoutMs ?? 5_000 });
  const db = client.db(options.database);
  const logs = db.collection<Stored<LogEntry>>('logs');
  const audit = db.collection<Stored<AuditEntry>>('audit_log');

  return {
    engine: 'mongodb',
    logs: {
      insert: (entries) => insertOnce(logs, entries),
      async find(query: LogQuery) {
        const filter = defined({
          level: query.level,
          organizationId: query.organizationId,
          deviceId: query.deviceId,
          timestamp: timeRange(query.since, query.until),
        }) as Filter<Stored<LogEntry>>;
        const docs = await logs.find(filter).sort({ timestamp: -1, _id: 1 }).limit(query.limit).toArray();
        return docs.map((doc) => fromStored<LogEntry>(doc as Stored<LogEntry>));
      },
    },
    auditLog: {
      insert: (entries) => insertOnce(audit, entries),
      async find(query: AuditQuery) {
        const filter = defined({
          organizationId: query.organizationId,
          userId: query.userId,
          action: query.action,
          resourceId: query.resourceId,
          timestamp: timeRange(query.since, query.until),
        }) as Filter<Stored<AuditEntry>>;
        const docs = await audit.find(filter).sort({ timestamp: -1, _id: 1 }).limit(query.limit).toArray();
        return docs.map((doc) => fromStored<AuditEntry>(doc as Stored<AuditEntry>));
      },
    },
    async init() {
      await client.connect();
      await logs.createIndexes([
        { key: { level: 1, timestamp: -1 }, name: 'level_timestamp' },
        { key: { organizationId: 1, level: 1, timestamp: -1 }, name: 'org_level_timestamp' },
        { key: { deviceId: 1, timestamp: -1 }, name: 'device_timestamp', partialFilterExpression: { deviceId: { $type: 'string' } } },
        { key: { timestamp: 1 }, name: 'timestamp_ttl', expireAfterSeconds: options.logRetentionSec },
      ]);
      await audit.createIndexes([
        { key: { organizationId: 1, timestamp: -1 }, name: 'org_timestamp' },
        { key: { organizationId: 1, userId: 1, timestamp: -1 }, name: 'org_user_timestamp' },
        { key: { organizationId: 1, action: 1, timestamp: -1 }, name: 'org_action_timestamp' },
        { key: { organizationId: 1, resourceId: 1, timestamp: -1 }, name: 'org_resource_timestamp' },
      ]);
    },
    // The TTL index expires logs on the server.
    async expireLogs() {
      return 0;
    },
    async sizeBytes() {
      const stats = await db.stats();
      return Number(stats.dataSize ?? 0) + Number(stats.indexSize ?? 0);
    },
    health: () => probeHealth('mongodb', () => db.command({ ping: 1 })),
    close: () => client.close(),
  };
}
