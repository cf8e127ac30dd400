import { randomUUID } from 'node:crypto';
import type { Logger } from '../../platform/obs/logger.ts';
import type { Metrics } from '../../platform/obs/metrics.ts';
import type { AuditEntry, DocumentStore } from '../../stores/documents/index.ts';
import { auditWriterOf } from './audit-writes.ts';
import { isUuid } from '@ninjait/shared';

/** What people do that the audit log records, `resource.verb`. */
export type AuditAction =
  | 'auth.login' | 'auth.logout'
  | 'user.create' | 'user.update' | 'user.delete'
  | 'token.create' | 'token.revoke'
  | 'device.update' | 'device.delete' | 'device.command'
  | 'device.enrolled' | 'device.reenrolled' | 'device.enrollment_pending' | 'device.approved' | 'device.replaced' | 'device.rejected'
  | 'shell.input'
  | 'ticket.create' | 'ticket.update' | 'ticket.assign' | 'ticket.comment' | 'ticket.close'
  | (string & {});

export interface AuditEvent {
  action: AuditAction;
  resourceId?: string | null | undefined;
  /** What changed; never passwords, tokens or secrets (keys that look like them are dropped). */
  details?: Record<string, unknown> | undefined;
  /** For calls made before a session exists (login): who it was. */
  userId?: string | undefined;
  organizationId?: string | undefined;
}

/** Who acted: a person's session (when any) and the address. A tRPC context is one. */
export interface AuditWho {
  ip: string | null;
  user?: { userId: string; organizationId: string } | undefined;
}

/** Where entries go, and what reports an entry that could not be written. */
export interface AuditDeps {
  documents: Pick<DocumentStore, 'auditLog'>;
  log: Pick<Logger, 'warn' | 'error'>;
  metrics: Pick<Metrics, 'auditWriteFailures'>;
}

/** Records one entry; built once by `createAudit` in the composition root and passed to features. */
export type Audit = (who: AuditWho, event: AuditEvent) => Promise<AuditEntry | null>;

const SECRET_KEY = /pass(word)?|secret|token|session|authorization|cookie|hash/i;

/**
 * A record's id is not its secret: `enrollmentTokenId` or a shell's `sessionId` holding a UUID
 * names a row. Secrets (tokens, session ids, device secrets) are never UUIDs here.
 */
const isIdentifier = (key: string, item: unknown) => /Id$/.test(key) && isUuid(item);

/** Copies details without secret-looking keys, at any depth. */
export function scrubDetails(value: unknown, depth = 0): unknown {
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => scrubDetails(item, depth + 1));
  if (value instanceof Date) return value.toISOString();
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key, item]) => !SECRET_KEY.test(key) || isIdentifier(key, item))
      .map(([key, item]) => [key, scrubDetails(item, depth + 1)]),
  );
}

/**
 * Records a person's mutation in `audit_log`: call it after the change succeeded. A documents store
 * that is down does not undo or fail the change: the entry goes to the server log instead and a
 * counter rises (alert on `ninjait_audit_write_failures_total`).
 */
export function createAudit(deps: AuditDeps): Audit {
  return (who, event) => writeAudit(deps, who, event);
}

async function writeAudit(deps: AuditDeps, ctx: AuditWho, event: AuditEvent): Promise<AuditEntry | null> {
  const organizationId = event.organizationId ?? ctx.user?.organizationId;
  if (!organizationId) {
    deps.log.warn({ action: event.action }, 'audit event without an organization; not recorded');
    return null;
  }
  const entry: AuditEntry = {
    id: randomUUID(),
    timestamp: new Date(),
    organizationId,
    userId: event.userId ?? ctx.user?.userId ?? null,
    action: event.action,
    resourceId: event.resourceId ?? null,
    details: (scrubDetails(event.details ?? {}) as Record<string, unknown>),
    ipAddress: ctx.ip,
  };
  try {
    // Written with the entries of concurrent requests, in one insert; this one's is stored when it resolves.
    await auditWriterOf(deps.documents.auditLog)(entry);
    return entry;
  } catch (error) {
    deps.metrics.auditWriteFailures.inc();
    deps.log.error({ err: error, audit: entry }, 'could not write the audit log; entry kept in this log line');
    return null;
  }
}
