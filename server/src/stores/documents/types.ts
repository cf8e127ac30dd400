import type { StoreHealth } from '../types.ts';

export const LOG_LEVELS = ['warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One document of the `logs` collection: the server's warnings and errors, and the agents' own errors. */
export interface LogEntry {
  /** Deterministic for the same event, so a replayed write stores it once. */
  id: string;
  timestamp: Date;
  level: LogLevel;
  service: string;
  message: string;
  deviceId: string | null;
  organizationId: string | null;
  error: { code: string; details: string } | null;
  /** Other scalar fields of the log line (already redacted by pino). */
  context?: Record<string, string | number | boolean> | undefined;
}

/** One document of `audit_log`: a mutation made by a person. */
export interface AuditEntry {
  /** Chosen once by the caller, so a retried insert stores the entry once. */
  id: string;
  timestamp: Date;
  organizationId: string;
  userId: string | null;
  action: string;
  resourceId: string | null;
  details: Record<string, unknown>;
  ipAddress: string | null;
}

/** Newest first. */
export interface LogQuery {
  level?: LogLevel | undefined;
  organizationId?: string | undefined;
  deviceId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  limit: number;
}

/** Newest first; always within one organization. */
export interface AuditQuery {
  organizationId: string;
  userId?: string | undefined;
  action?: string | undefined;
  resourceId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  limit: number;
}

export interface DocumentCollection<Doc, Query> {
  /** Idempotent on `id`: existing documents are left as they are. */
  insert(documents: readonly Doc[]): Promise<void>;
  find(query: Query): Promise<Doc[]>;
}

/**
 * The document port: MongoDB when configured, JSONB tables in the relational store otherwise.
 * Both keep the same two collections with the same queries.
 */
export interface DocumentStore {
  readonly engine: 'mongodb' | 'relational';
  readonly logs: DocumentCollection<LogEntry, LogQuery>;
  readonly auditLog: DocumentCollection<AuditEntry, AuditQuery>;
  /** Creates indexes (MongoDB); the relational tables come from migrations. */
  init(): Promise<void>;
  /** Deletes logs older than `before` where the engine has no TTL index of its own. */
  expireLogs(before: Date): Promise<number>;
  /** Bytes the documents occupy (data + indexes), for the size gauge. */
  sizeBytes(): Promise<number>;
  health(): Promise<StoreHealth>;
  close(): Promise<void>;
}
