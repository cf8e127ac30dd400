import { counted, label } from './format.ts';

/**
 * An audit entry as a sentence a technician reads: "Anna ran `uname -a` on web-01". Names come
 * from what the console knows (people of the organization, its devices); what it does not know
 * falls back to what the entry recorded (an email, a hostname), never to a bare id.
 */
export interface AuditEntryLike {
  action: string;
  userId: string | null;
  resourceId: string | null;
  details: Record<string, unknown>;
}

export interface AuditNames {
  /** The signed-in person, who reads "You". */
  meId?: string | undefined;
  person(id: string): string | null;
  device(id: string): string | null;
}

/** Plain text, or text the page shows as code (commands people typed). */
export type Part = string | { code: string };

/** Commands are shown in full in the details; the sentence keeps a line of them. */
const SCRIPT_CHARS = 120;

const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const quoted = (value: unknown, fallback: string) => (text(value) ? `“${text(value)}”` : fallback);
const code = (value: unknown): Part => {
  const script = (text(value) ?? '').trim();
  const line = script.split('\n')[0] ?? '';
  return { code: line.length > SCRIPT_CHARS || script.includes('\n') ? `${line.slice(0, SCRIPT_CHARS)}…` : line };
};
const role = (value: unknown) => (text(value) ? label(String(value)).toLowerCase() : 'a role');

/** Who did it: "You", a name, what the entry recorded, or what acted when no person did. */
export function actor(entry: AuditEntryLike, names: AuditNames): string {
  const by = text(entry.details.by);
  if (entry.userId) {
    if (entry.userId === names.meId) return 'You';
    return names.person(entry.userId) ?? text(entry.details.requestedBy) ?? 'Someone no longer listed';
  }
  if (by === 'local-admin' || entry.details.requestedBy === 'local-admin') return "The server's command line";
  if (by === 'operator') return 'The people who run this server';
  if (entry.action === 'auth.login_failed') return 'Someone';
  return 'The server';
}

const FAILED_LOGIN_REASON: Record<string, string> = {
  wrong_password: 'wrong password',
  unknown_account: 'no such account',
  throttled: 'held back after too many failures',
  busy: 'server too busy to check',
};

/** The sentence after the actor, as parts. */
export function describeAction(entry: AuditEntryLike, names: AuditNames): Part[] {
  const d = entry.details;
  const deviceId = text(d.deviceId) ?? (entry.action.startsWith('device.') ? entry.resourceId : null);
  const device = (deviceId ? names.device(deviceId) : null) ?? text(d.deviceName) ?? text(d.name) ?? text(d.hostname) ?? 'a device';
  const person = (id: unknown, fallback: unknown) => (text(id) ? names.person(String(id)) : null) ?? text(fallback) ?? 'someone';
  const target = person(entry.resourceId, d.email);
  switch (entry.action) {
    case 'auth.login': return ['logged in'];
    case 'auth.logout': return ['logged out'];
    case 'auth.login_failed': {
      const many = num(d.failuresThisMinuteFromAddress);
      const why = FAILED_LOGIN_REASON[String(d.reason)] ?? 'refused';
      const what = d.during === 'password_change' ? `got the current password of ${text(d.email) ?? 'an account'} wrong while changing it` : `failed to log in as ${text(d.email) ?? 'someone'}`;
      return [`${what} (${why})${many && many > 1 ? `, ${counted(many, 'failure')} from that address this minute` : ''}`];
    }
    case 'user.create': return [`added ${text(d.email) ?? target} as ${role(d.role)}`];
    case 'user.update': return [`changed the role of ${target}${text(d.from) ? ` from ${role(d.from)}` : ''} to ${role(d.role)}`];
    case 'user.delete': return [`removed ${text(d.email) ?? target} from the organization`];
    case 'user.password_change': return ['changed their password'];
    case 'user.password_reset': return [`reset the password of ${text(d.email) ?? target}`];
    case 'organization.create': return [`created the organization ${quoted(d.name, 'a new organization')}${text(d.firstPerson) ? ` with ${String(d.firstPerson)} as ${role(d.role)}` : ''}`];
    case 'token.create': {
      const uses = num(d.maxUses);
      return [`created the enrollment token ${quoted(d.name, 'without a name')}${uses ? ` for up to ${counted(uses, 'device')}` : ''}${d.via === 'install-link' ? ' with an install link' : ''}`];
    }
    case 'token.revoke': return [`revoked the enrollment token ${quoted(d.name, 'without a name')}`];
    case 'device.enrolled': return [`The device ${device} enrolled`];
    case 'device.reenrolled': return [`The device ${device} enrolled again with its own credentials`];
    case 'device.enrollment_pending': return [`A machine calling itself ${device} asked to enroll without the credentials of the machine it claims to be: it waits for approval`];
    case 'device.delete': return [`decommissioned ${device}`];
    case 'device.approved': return [`approved ${device} as a new device`];
    case 'device.replaced': return [`let ${device} replace ${(text(d.replacedDeviceId) ? names.device(String(d.replacedDeviceId)) : null) ?? 'the device it claimed to be'}`];
    case 'device.rejected': return [`rejected ${device}`];
    case 'command.run': return ['ran ', code(d.script), ` on ${device}${text(d.bulkJobId) ? ', as part of a job' : ''}`];
    case 'command.cancel': return [`cancelled a command on ${device}`];
    case 'shell.open': return [`opened a shell on ${device}`];
    case 'shell.close': return [`closed a shell on ${device}${text(d.reason) ? ` (${String(d.reason)})` : ''}`];
    case 'shell.input': return ['typed ', code(d.input), ` in a shell on ${device}`];
    case 'job.create': return [`started the job ${quoted(d.name, 'without a name')}${num(d.devices) ? ` on ${counted(num(d.devices), 'device')}` : ''}`];
    case 'job.cancel': return ['cancelled a job'];
    case 'ticket.create': return [`opened the ticket ${quoted(d.title, 'without a title')}${deviceId ? ` about ${device}` : ''}`];
    case 'ticket.update': return [`updated a ticket${text(d.status) ? `: status ${label(String(d.status)).toLowerCase()}` : ''}${text(d.priority) ? `, priority ${String(d.priority)}` : ''}`];
    case 'ticket.assign': return [`assigned a ticket to ${text(d.assignedTo) ? (String(d.assignedTo) === names.meId ? 'you' : person(d.assignedTo, null)) : 'nobody'}`];
    case 'ticket.comment': return ['commented on a ticket'];
    case 'ticket.close': return ['closed a ticket'];
    case 'asset.create': return [`added the asset ${quoted(d.name, 'without a name')}`];
    case 'asset.update': return ['changed an asset'];
    case 'asset.delete': return [`removed the asset ${quoted(d.name, 'without a name')}`];
    case 'contract.create': return [`set a contract from ${text(d.startsOn) ?? 'next month'}${text(d.endsOn) ? ` to ${String(d.endsOn)}` : ''}`];
    case 'settings.organization.update': return ["changed the organization's settings"];
    case 'settings.device.update': return [`changed the settings of ${device}`];
    default: return [`did “${label(entry.action.replace('.', ' '))}”`];
  }
}

/** The whole sentence as parts: the actor, then what they did (an enrolling device is its own subject). */
export function auditParts(entry: AuditEntryLike, names: AuditNames): Part[] {
  const [first, ...rest] = describeAction(entry, names);
  const deviceActed = /^device\.(enrolled|reenrolled|enrollment_pending)$/.test(entry.action) && !entry.userId;
  if (deviceActed) return [...(first === undefined ? [] : [first]), ...rest];
  return [`${actor(entry, names)} `, ...(first === undefined ? [] : [first]), ...rest];
}

/** The sentence as plain text, code in backticks (for search, tests, titles). */
export function auditSentence(entry: AuditEntryLike, names: AuditNames): string {
  return auditParts(entry, names).map((part) => (typeof part === 'string' ? part : `\`${part.code}\``)).join('');
}

/** Device ids an entry names, so the page can ask for their names in one call. */
export function deviceIdsOf(entry: AuditEntryLike): string[] {
  const ids = [text(entry.details.deviceId), text(entry.details.replacedDeviceId), entry.action.startsWith('device.') ? entry.resourceId : null];
  return ids.filter((id): id is string => id !== null && /^[0-9a-f-]{36}$/i.test(id));
}
