export { audit, scrubDetails, type AuditAction, type AuditContext, type AuditEvent } from './audit.ts';
