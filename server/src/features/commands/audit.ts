import type { AuditEvent } from '../audit/index.ts';

export type CommandAuditAction = 'command.run' | 'command.cancel' | 'shell.open' | 'shell.input' | 'shell.close' | 'shell.end' | 'job.create' | 'job.cancel'
  | 'file.upload' | 'file.download' | 'file.mkdir' | 'process.kill' | 'service.control';

/** Writes one audit entry; the composition root binds it to the audit feature's writer (`createAudit`). */
export type Auditor = (ip: string | null, event: AuditEvent) => Promise<unknown>;

export interface CommandAuditEntry {
  organizationId: string;
  /** Null for the local admin (the CLI on the server's machine). */
  userId: string | null;
  action: CommandAuditAction;
  resourceId: string;
  ipAddress: string | null;
  details: Record<string, unknown>;
}

/**
 * Records a command-related action after its transaction committed (the audit helper's
 * contract: a documents store that is down never undoes the change; the helper logs the entry).
 */
export async function writeCommandAudit(auditor: Auditor, entry: CommandAuditEntry): Promise<void> {
  await auditor(entry.ipAddress, {
    action: entry.action,
    resourceId: entry.resourceId,
    organizationId: entry.organizationId,
    ...(entry.userId ? { userId: entry.userId } : {}),
    details: entry.details,
  });
}
