export { createAudit, scrubDetails, type Audit, type AuditAction, type AuditDeps, type AuditEvent, type AuditWho } from './audit.ts';
