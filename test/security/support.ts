import { randomUUID } from 'node:crypto';
import { createTRPCUntypedClient, createWSClient, wsLink, TRPCClientError, type TRPCUntypedClient } from '@trpc/client';
import { WebSocket } from 'ws';
import { Redis } from 'ioredis';
import type { AnyRouter } from '@trpc/server';
import { appRouterShape, LOCAL_ADMIN_HEADER, readLocalAdminToken } from '@ninjait/server';
import type { Role } from '@ninjait/shared';
import { fakeInventory, type Harness } from '@ninjait/server/testing';
import { httpExchange } from '@ninjait/bench/http-trpc';
import { findIdPaths, UnbuildableError, unwrap, withIdAt, type IdNaming, type IdPath, type ZodLike } from './id-paths.ts';

export { unwrap, type ZodLike };

/**
 * What the security suite shares: the procedures found in the router at run time, how each is
 * authenticated, the dictionary that builds a valid input for any of them from field names, two
 * organizations' real fixtures, and one way to call anything over HTTP or WebSocket.
 */

export type ProcedureType = 'query' | 'mutation' | 'subscription';

export interface ProcedureInfo {
  path: string;
  type: ProcedureType;
  /** The input's object shape (unwrapped from optional/default), or null for no or non-object input. */
  shape: Record<string, ZodLike> | null;
  /** The procedure accepts no input at all (`undefined`). */
  inputOptional: boolean;
  /** The whole input schema (to check a built input), or null for none. */
  input: ZodLike | null;
}

type RawProcedure = { _def: { type: ProcedureType; inputs: ZodLike[] } };
export const procedures: ProcedureInfo[] = Object.entries((appRouterShape as unknown as { _def: { procedures: Record<string, RawProcedure> } })._def.procedures)
  .map(([path, procedure]) => {
    const input = procedure._def.inputs[0];
    const object = input ? unwrap(input) : null;
    return {
      path,
      type: procedure._def.type,
      shape: object?._zod.def.type === 'object' ? (object.shape ?? object._zod.def.shape ?? null) : null,
      inputOptional: !input || input.safeParse(undefined).success,
      input: input ?? null,
    };
  });

export const hasProcedure = (path: string) => procedures.some((procedure) => procedure.path === path);
export const procedure = (path: string) => procedures.find((p) => p.path === path);

/**
 * Procedures anyone may call without a session or device credentials, and why.
 * Everything else must refuse an anonymous caller with UNAUTHORIZED.
 */
export const PUBLIC_PROCEDURES: Record<string, string> = {
  'auth.login': 'how a program obtains a session token; failures throttled per address, account and both (no lockout), refused to browsers',
  'auth.cookieLogin': 'how the console obtains a session (HttpOnly cookie, no token in the answer); throttled like auth.login',
  'auth.session': "how a console tab that just opened learns whether its own cookie signs it in: null without a live session, never about anyone else's",
  'agent.enroll': 'how a device obtains credentials: the enrollment token in the input is the credential; rate-limited per address',
  'updates.check': 'the launcher asks before it has (or after it lost) credentials; release versions are public',
  'updates.confirm': 'the device id and secret are in the input (checked like a socket\'s), for the launcher that has no socket',
  'auth.requestPasswordReset': 'how someone who forgot their password asks for a link: the same answer for any email, the mail goes to the address itself; limited per address and per email',
  'auth.resetPassword': 'the emailed single-use token in the input is the credential (kept hashed, expiring)',
};

/**
 * Procedures of the local CLI: the credential file in DATA_DIR, from a loopback address. They act
 * across organizations by design, so the tenant matrix skips them; the auth matrix checks a
 * person's session cannot call them.
 */
export const isLocalAdmin = (path: string) =>
  path.startsWith('admin.') || path.startsWith('commands.local.') || path.startsWith('shell.local.') || path === 'remote.local' || ['updates.adminInstallLinks', 'logs.serverErrors'].includes(path);

/** Device-authenticated: credentials checked once per socket; scoped to the device by construction. */
export const isAgent = (path: string) => path.startsWith('agent.') && !(path in PUBLIC_PROCEDURES);

export type AuthKind = 'public' | 'agent' | 'localAdmin' | 'user';
export function authKind(path: string): AuthKind {
  if (path in PUBLIC_PROCEDURES) return 'public';
  if (isAgent(path)) return 'agent';
  if (isLocalAdmin(path)) return 'localAdmin';
  return 'user';
}

export const ROLES: Role[] = ['viewer', 'technician', 'admin', 'owner'];
export const PASSWORD = 'correct horse battery staple';

// ---------------------------------------------------------------------------------------------
// Fixtures: one organization's real rows, created through the API.

export interface OrgFixture {
  name: string;
  orgId: string;
  users: Record<Role, { id: string; email: string; session: string }>;
  /** A user that holds no session the tests rely on: the target of user-changing mutations. */
  targetUserId: string;
  device: { id: string; secret: string; hostname: string };
  token: { id: string; secret: string };
  ticketId: string;
  commandId: string;
  jobId: string;
  shellSessionId: string;
  alertRuleId: string;
  channelId: string;
  alertId: string;
  maintenanceWindowId: string;
  /** An API key the owner made (devices:read): its id, and the key itself. */
  apiKey: { id: string; key: string };
  /** A patch deployment of the device (its inventory reported one pending update). */
  deploymentId: string;
  /** An event webhook (paused, so nothing leaves in the background) and an event it was sent. */
  webhookId: string;
  webhookEventId: string;
  /** A hardware asset, linked to no device (so the sweep may link the device to a new one). */
  assetId: string;
  /** A patch policy scoped to the fixture's tag (its window years away, like the organization's). */
  patchPolicyId: string;
  /** The fleet's structure: a site, a tag, a text field and a group, each the organization's own. */
  siteId: string;
  /** A client organization of this one (grants name it), with nobody and nothing in it. */
  clientId: string;
  /** A viewer no test logs in as: grants name them (a grant change ends the person's sessions). */
  granteeUserId: string;
  tagId: string;
  fieldId: string;
  groupId: string;
  scriptId: string;
  scriptRunId: string;
  scriptScheduleId: string;
}

let counter = 0;
/** Unique per process: emails and names that must not collide. */
export const unique = (prefix = 'u') => `${prefix}${process.pid}x${++counter}x${randomUUID().slice(0, 8)}`;

export async function login(h: Harness, email: string, password = PASSWORD): Promise<string> {
  return (await h.http().auth.login.mutate({ email, password })).sessionToken;
}

/** `existing`: fill an organization made elsewhere (a provider's client) instead of creating one. */
export async function createOrgFixture(h: Harness, label: string, existing?: { id: string; name: string }): Promise<OrgFixture> {
  const name = existing?.name ?? `${label}-${unique('org')}`;
  const org = existing ?? await h.admin.admin.organizations.create.mutate({ name });
  const users = {} as OrgFixture['users'];
  await Promise.all(ROLES.map(async (role) => {
    const email = `${role}-${unique()}@${label.toLowerCase()}.test`;
    const user = await h.admin.admin.users.create.mutate({ org: org.id, email, password: PASSWORD, role });
    users[role] = { id: user.id, email, session: await login(h, email) };
  }));
  const target = await h.admin.admin.users.create.mutate({ org: org.id, email: `target-${unique()}@${label.toLowerCase()}.test`, password: PASSWORD, role: 'viewer' });
  // Whom the grant procedures name: granting ends their sessions, so nobody the tests log in as.
  const grantee = await h.admin.admin.users.create.mutate({ org: org.id, email: `grantee-${unique()}@${label.toLowerCase()}.test`, password: PASSWORD, role: 'viewer' });
  const owner = h.http({ authorization: `Bearer ${users.owner.session}` });
  const { token: enrollToken } = await h.admin.admin.tokens.create.mutate({ org: org.id });
  const hostname = `host-${unique()}`;
  const enrolled = await h.http().agent.enroll.mutate({ token: enrollToken, inventory: fakeInventory(unique('machine'), hostname) });
  const token = await owner.tokens.create.mutate({ name: `spare-${label}`, maxUses: 5 });
  const ticket = await owner.tickets.create.mutate({ title: `ticket-${unique()}`, deviceId: enrolled.deviceId, assignedTo: users.technician.id });
  const command = await owner.commands.run.mutate({ deviceId: enrolled.deviceId, script: 'echo fixture' });
  const job = await owner.jobs.create.mutate({ script: 'echo fixture job', deviceIds: [enrolled.deviceId] });
  const deviceSocket = h.ws({ deviceId: enrolled.deviceId, deviceSecret: enrolled.deviceSecret });
  await deviceSocket.agent.inventoryReport.mutate({
    baseHash: null, hash: 'a'.repeat(64), software: { upsert: [], remove: [] }, services: { upsert: [], remove: [] },
    updates: { upsert: [{ key: 'apt:fixture-pkg:amd64', name: 'fixture-pkg', currentVersion: '1.0', availableVersion: '1.1', source: 'apt',
      classification: 'security', severity: 'important', detail: 'fixture' }], remove: [] },
    rebootPending: false, lastPatchedAtMs: null, collectedAtMs: Date.now(),
  });
  // Its window is years away (29 February): the deployment stays as created while the suites compare rows.
  await owner.patches.setPolicy.mutate({ windowCron: '0 0 29 2 *' });
  const deployment = await owner.patches.deploy.mutate({ deviceIds: [enrolled.deviceId], names: ['fixture-pkg'], schedule: 'window' });
  const shell = await owner.shell.open.mutate({ deviceId: enrolled.deviceId });
  const channel = await owner.channels.create.mutate({ name: `channel-${unique()}`, kind: 'email', target: `ops-${unique()}@${label.toLowerCase()}.test` });
  const rule = await owner.alertRules.create.mutate({
    name: `rule-${unique()}`, condition: { kind: 'metric', metric: 'cpu', op: '>', threshold: 99, forSec: 600 }, channelIds: [channel.channel.id],
  });
  const window = await owner.maintenance.create.mutate({ startsAt: new Date(Date.now() + 3_600_000), endsAt: new Date(Date.now() + 7_200_000), reason: 'fixture' });
  // An open alert as the evaluator would leave it (no sample of the fixture's device meets the rule).
  const alert = await h.server.services.db.query<{ id: string }>(
    `INSERT INTO alerts (organization_id, rule_id, device_id, dedupe_key, state, severity, title)
     VALUES ($1, $2, $3, $4, 'open', 'warning', 'fixture alert') RETURNING id`,
    [org.id, rule.id, enrolled.deviceId, `${rule.id}:${enrolled.deviceId}:`]);
  const apiKey = await owner.apiKeys.create.mutate({ name: `fixture-${label}`, scopes: ['devices:read'] });
  // A documentation address (TEST-NET-1): public to the address guard, never a real receiver.
  const webhook = await owner.webhooks.create.mutate({ name: `webhook-${unique()}`, url: 'http://192.0.2.10/fixture', eventTypes: ['ticket.created'], enabled: false });
  const webhookEventId = randomUUID();
  // An event already delivered, so resend has something to send again.
  await h.server.services.db.query(
    `INSERT INTO notification_outbox (subscription_id, organization_id, idempotency_key, event_id, event_type, payload, state, sent_at)
     VALUES ($1, $2, $3, $4, 'ticket.created', $5, 'sent', NOW())`,
    [webhook.subscription.id, org.id, `event:${webhookEventId}:${webhook.subscription.id}`, webhookEventId, JSON.stringify({ id: webhookEventId, type: 'ticket.created' })]);
  const asset = await owner.assets.create.mutate({ name: `asset-${unique()}`, kind: 'laptop', serial: unique('sn') });
  const site = await owner.fleet.sites.create.mutate({ name: `site-${unique()}` });
  const tag = await owner.fleet.tags.create.mutate({ name: `tag-${unique()}` });
  const field = await owner.fleet.fields.create.mutate({ name: `field-${unique()}`, type: 'text' });
  const group = await owner.fleet.groups.create.mutate({ name: `group-${unique()}`, filter: { conditions: [{ kind: 'tag', op: 'has', tagId: tag.id }] } });
  await owner.fleet.device.setTags.mutate({ deviceId: enrolled.deviceId, tagIds: [tag.id] });
  await owner.fleet.device.setSite.mutate({ deviceId: enrolled.deviceId, siteId: site.id });
  const patchPolicy = await owner.patches.policies.create.mutate({ name: `policy-${unique()}`, scope: { kind: 'tag', id: tag.id }, windowCron: '0 0 29 2 *' });
  const script = await owner.scripts.create.mutate({ name: `script-${unique()}`, language: 'shell', targetOs: ['linux'], body: 'echo fixture script' });
  const scriptRun = await owner.scripts.run.mutate({ id: script.id, target: { kind: 'devices', deviceIds: [enrolled.deviceId] } });
  // Years away (29 February), like the patch window: it never fires while the suites compare rows.
  const schedule = await owner.scripts.schedules.create.mutate({
    scriptId: script.id, name: `schedule-${unique()}`, cron: '0 0 29 2 *', timezone: 'UTC', target: { kind: 'organization' }, enabled: false,
  });
  // Made in SQL: not every fixture organization is a provider, and only the grant procedures use it.
  const client = await h.server.services.db.query<{ id: string }>('INSERT INTO organizations (name, provider_id) VALUES ($1, $2) RETURNING id', [`${name}-client`, org.id]);
  return {
    name, orgId: org.id, users, targetUserId: target.id,
    device: { id: enrolled.deviceId, secret: enrolled.deviceSecret, hostname },
    token: { id: token.record.id, secret: token.token },
    ticketId: ticket.id, commandId: command.id, jobId: job.id, shellSessionId: shell.sessionId,
    alertRuleId: rule.id, channelId: channel.channel.id, alertId: alert.rows[0]!.id, maintenanceWindowId: window.id, apiKey: { id: apiKey.record.id, key: apiKey.key }, deploymentId: deployment.deployments[0]!,
    webhookId: webhook.subscription.id, webhookEventId,
    assetId: asset.id, patchPolicyId: patchPolicy.id,
    siteId: site.id, tagId: tag.id, fieldId: field.id, groupId: group.id, clientId: client.rows[0]!.id, granteeUserId: grantee.id,
    scriptId: script.id, scriptRunId: scriptRun.runId, scriptScheduleId: schedule.id,
  };
}

// ---------------------------------------------------------------------------------------------
// Building inputs from field names.

export type IdKind = 'device' | 'devices' | 'user' | 'ticket' | 'token' | 'command' | 'job' | 'shellSession' | 'apiKey' | 'deployment' | 'transfer'
  | 'alert' | 'alerts' | 'alertRule' | 'channel' | 'channels' | 'maintenanceWindow' | 'organization' | 'webhook' | 'webhookEvent' | 'asset'
  | 'site' | 'tag' | 'tags' | 'field' | 'group' | 'client' | 'grantee' | 'script' | 'scriptRun' | 'scriptSchedule' | 'patchPolicy';

/** `id` means the resource of the procedure's innermost router that names one (scripts.runs.get: a run). */
const ID_BY_ROUTER: Record<string, IdKind> = {
  tickets: 'ticket', tokens: 'token', devices: 'device', commands: 'command', jobs: 'job', users: 'user', apiKeys: 'apiKey', patches: 'deployment',
  alerts: 'alert', alertRules: 'alertRule', channels: 'channel', maintenance: 'maintenanceWindow', webhooks: 'webhook', assets: 'asset',
  sites: 'site', tags: 'tag', fields: 'field', groups: 'group',
  scripts: 'script', runs: 'scriptRun', schedules: 'scriptSchedule', policies: 'patchPolicy',
};

/**
 * Id-like fields and the kind of resource they name. A new id-like field must be added here
 * (the matrix fails naming it), so every id a procedure takes gets a foreign-organization case.
 */
export const ID_FIELDS: Record<string, IdKind | ((path: string) => IdKind | undefined)> = {
  id: (path) => path.split('.').slice(0, -1).map((segment) => ID_BY_ROUTER[segment]).reverse().find(Boolean),
  // A grant's person is one of their own: the sweeps remove the target user before they revoke.
  userId: (path) => (path.startsWith('providers.grants.') ? 'grantee' : 'user'), assignedTo: 'user', targetUserId: 'user',
  deviceId: 'device', deviceIds: 'devices', device: 'device',
  ticketId: 'ticket', tokenId: 'token', commandId: 'command', bulkJobId: 'job', jobId: 'job',
  sessionId: 'shellSession', deploymentId: 'deployment',
  // A transfer is named by its sender and lives under a device: the device id beside it is what
  // isolates organizations (tenant-isolation.test.ts leaves transfer ids out).
  transferId: 'transfer',
  ids: (path) => (path.startsWith('alerts.') ? 'alerts' : undefined), ruleId: 'alertRule', channelIds: 'channels',
  excludedDeviceIds: 'devices',
  siteId: 'site', tagId: 'tag', tagIds: 'tags', fieldId: 'field', groupId: 'group',
  // Free text in the schema, but an id all the same: any foreign resource's id must find nothing.
  resourceId: 'ticket',
  // The organization switcher: an organization the caller may not enter is NOT_FOUND. Grants name
  // a client organization of the caller's provider.
  organizationId: (path) => (path.startsWith('providers.grants.') ? 'client' : 'organization'),
  eventId: 'webhookEvent',
  scriptId: 'script', remediationScriptId: 'script',
};

/** Records keyed by ids, by the field that holds them: a device's custom values are keyed by field id. */
const ID_KEYED_RECORDS: Record<string, IdKind> = { values: 'field' };

/** What an `id` beside a `kind` may name (a scope, a script's target): one case per kind. */
const KIND_NAMED_IDS: readonly IdKind[] = ['site', 'group', 'tag'];

/** Names that end in "Id" but name nothing of ours: an OpenID Connect client id is text a provider issued. */
const NOT_IDS = new Set(['clientId']);
export function isIdField(name: string, schema: ZodLike): boolean {
  if (NOT_IDS.has(name)) return false;
  const inner = unwrap(schema);
  const element = inner._zod.def.type === 'array' && inner._zod.def.element ? unwrap(inner._zod.def.element) : null;
  return inner._zod.def.format === 'uuid' || element?._zod.def.format === 'uuid' || /^(id|ids|.+Id|.+Ids)$/.test(name) || name in ID_FIELDS;
}

export function idKind(path: string, field: string): IdKind | undefined {
  const entry = ID_FIELDS[field];
  return typeof entry === 'function' ? entry(path) : entry;
}

export function idValue(org: OrgFixture, kind: IdKind): unknown {
  switch (kind) {
    case 'device': return org.device.id;
    case 'devices': return [org.device.id];
    case 'user': return org.targetUserId;
    case 'ticket': return org.ticketId;
    case 'token': return org.token.id;
    case 'command': return org.commandId;
    case 'job': return org.jobId;
    case 'shellSession': return org.shellSessionId;
    case 'alert': return org.alertId;
    case 'alerts': return [org.alertId];
    case 'alertRule': return org.alertRuleId;
    case 'channel': return org.channelId;
    case 'channels': return [org.channelId];
    case 'maintenanceWindow': return org.maintenanceWindowId;
    case 'apiKey': return org.apiKey.id;
    case 'deployment': return org.deploymentId;
    case 'transfer': return org.jobId;
    case 'organization': return org.orgId;
    case 'client': return org.clientId;
    case 'grantee': return org.granteeUserId;
    case 'webhook': return org.webhookId;
    case 'webhookEvent': return org.webhookEventId;
    case 'asset': return org.assetId;
    case 'site': return org.siteId;
    case 'tag': return org.tagId;
    case 'tags': return [org.tagId];
    case 'field': return org.fieldId;
    case 'group': return org.groupId;
    case 'script': return org.scriptId;
    case 'scriptRun': return org.scriptRunId;
    case 'scriptSchedule': return org.scriptScheduleId;
    case 'patchPolicy': return org.patchPolicyId;
  }
}

/** Valid sample values for required non-id fields, keyed by field name (then `path:field`). */
export const SAMPLE_VALUES: Record<string, (org: OrgFixture) => unknown> = {
  email: () => `${unique()}@sample.test`,
  password: () => PASSWORD,
  currentPassword: () => PASSWORD,
  oldPassword: () => PASSWORD,
  newPassword: () => PASSWORD,
  role: () => 'viewer',
  name: () => `sample ${unique()}`,
  title: () => `sample ticket ${unique()}`,
  body: () => 'a sample comment',
  description: () => 'a sample description',
  script: () => 'echo security-suite',
  data: () => 'echo hi\n',
  platform: () => 'linux',
  arch: () => 'x64',
  version: () => '0.1.0',
  reason: () => 'security suite',
  deviceSecret: (org) => org.device.secret,
  token: (org) => org.token.secret,
  inventory: () => fakeInventory(unique('machine')),
  scopes: () => ['devices:read'],
  /** A second-factor code: wrong, so the sweep changes nothing (audit-coverage builds right ones). */
  code: () => '000000',
  required: () => false,
  /** auth.revokeSession: an id no session has. */
  session: () => '0000000000000000',
  org: (org) => org.orgId,
  /** `admin.providers.grants.*`: a client by id or name (the fixture's own organization is not one: NOT_FOUND). */
  client: (org) => org.orgId,
  /** `commands.local.run`: a device id or name. */
  device: (org) => org.device.id,
  /** Alerts: a rule's condition, a channel's kind and target, a maintenance window, an exclusion, the CLI's forms. */
  condition: () => ({ kind: 'metric', metric: 'memory', op: '>', threshold: 95, forSec: 300, clear: 90 }),
  kind: () => 'email',
  target: () => `ops-${unique()}@sample.test`,
  startsAt: () => new Date(Date.now() + 86_400_000).toISOString(),
  endsAt: () => new Date(Date.now() + 90_000_000).toISOString(),
  excluded: () => true,
  when: () => 'disk > 95',
  rule: () => 'no such rule',
  // Patching: package names, an agent's progress lines, results and an empty inventory report.
  names: () => ['sample-pkg'],
  lines: () => ['a progress line'],
  results: () => [{ key: 'apt:sample-pkg:amd64', status: 'installed', code: 0, message: 'sample' }],
  baseHash: () => null,
  hash: () => 'b'.repeat(64),
  software: () => ({ upsert: [], remove: [] }),
  services: () => ({ upsert: [], remove: [] }),
  updates: () => ({ upsert: [], remove: [] }),
  rebootPending: () => false,
  lastPatchedAtMs: () => null,
  collectedAtMs: () => Date.now(),
  // Remote access (files, processes, services, logs, terminal size).
  path: () => '/tmp/ninjait-security-suite',
  size: () => 1,
  offset: () => 0,
  length: () => 1,
  sha256: () => '0'.repeat(64),
  overwrite: () => false,
  'remote.files.uploadChunk:data': () => 'AAAA',
  pid: () => 2 ** 31 - 2,
  signal: () => 'SIGTERM',
  action: () => 'restart',
  'remote.logs.query:lines': () => 1,
  cols: () => 80,
  rows: () => 24,
  op: () => ({ kind: 'proc.list' }),
  // Event webhooks: a public documentation address (never reached), the events, the CLI's reference.
  url: () => 'http://192.0.2.10/sample',
  eventTypes: () => ['ticket.created'],
  webhook: (org) => org.webhookId,
  // Contracts (a term starts next month at the earliest), settings, assets.
  perDevice: () => 4,
  perApiCall: () => 0.002,
  perGb: () => 0.05,
  currency: () => 'EUR',
  startMonth: () => nextMonth(),
  'admin.contracts.set:contract': () => ({ perDevice: 4, perApiCall: 0.002, perGb: 0.05, currency: 'EUR', startMonth: nextMonth() }),
  settings: () => ({ timezone: 'UTC' }),
  // Single sign-on settings: a provider that is never contacted by saving them.
  issuer: () => 'https://idp.sample.test',
  clientId: () => 'sample-client',
  emailDomain: () => null,
  roleClaim: () => 'groups',
  roleRules: () => [{ value: 'sample-group', role: 'viewer' }],
  ssoOnly: () => false,
  countsAsTwoFactor: () => false,
  // The fleet's structure: a group matching the device's tag, an empty set of values, the CLI's forms.
  filter: (org) => ({ conditions: [{ kind: 'tag', op: 'has', tagId: org.tagId }] }),
  // Scripts: a run on the fixture's device; a schedule years away (29 February), left disabled.
  'scripts.run:target': (org) => ({ kind: 'devices', deviceIds: [org.device.id] }),
  'scripts.schedules.create:target': () => ({ kind: 'organization' }),
  cron: () => '0 0 29 2 *',
  timezone: () => 'UTC',
  enabled: () => false,
  'fleet.fields.create:type': () => 'text',
  'admin.fleet.fields.create:type': () => 'text',
  'fleet.device.setFields:values': () => ({}),
  add: () => true,
  'admin.fleet.sites.assign:site': () => null,
  'admin.fleet.tags.assign:devices': (org) => [org.device.id],
  'admin.fleet.tags.assign:tags': (org) => [org.tagId],
  'admin.fleet.fields.set:field': (org) => org.fieldId,
  'admin.fleet.fields.set:value': () => null,
  'admin.fleet.groups.members:group': (org) => org.groupId,
  conditions: () => [],
  // Patch policies: the fixture's group (the tag already has the fixture's policy; one policy per scope).
  'patches.policies.create:scope': (org) => ({ kind: 'group', id: org.groupId }),
  // Nested places, by label: a script check must test the exit code or the output.
  'condition<script>': () => ({ kind: 'script', exit: { op: '!=', code: 0 } }),
  'admin.patching.policies.set:policy': () => ({ windowCron: '0 0 29 2 *' }),
};

function nextMonth(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString().slice(0, 7);
}

export class MissingSampleError extends Error {}

/**
 * A valid input for `procedure` with the ids of `org`: required fields from the dictionary, id-like
 * fields (optional ones too, so they get tested) from the fixture, other optional fields left out.
 */
export function buildInput(info: ProcedureInfo, org: OrgFixture): Record<string, unknown> | undefined {
  if (!info.shape) {
    if (info.inputOptional) return undefined;
    throw new MissingSampleError(`${info.path}: its input is not an object; teach test/security/support.ts buildInput how to build one`);
  }
  const input: Record<string, unknown> = {};
  for (const [field, schema] of Object.entries(info.shape)) {
    if (isIdField(field, schema)) {
      const kind = idKind(info.path, field);
      if (!kind) throw new MissingSampleError(`${info.path}: id-like field "${field}" has no entry in ID_FIELDS (test/security/support.ts)`);
      input[field] = idValue(org, kind);
      continue;
    }
    if (schema.safeParse(undefined).success) continue;
    const sample = SAMPLE_VALUES[`${info.path}:${field}`] ?? SAMPLE_VALUES[field];
    if (!sample) throw new MissingSampleError(`${info.path}: required field "${field}" has no entry in SAMPLE_VALUES (test/security/support.ts)`);
    input[field] = sample(org);
  }
  return input;
}

// ---------------------------------------------------------------------------------------------
// Calling.

export interface Outcome {
  ok: boolean;
  /** tRPC error code, e.g. NOT_FOUND; null on success. */
  code: string | null;
  message: string;
  /** The whole answer as text, for leak scans. */
  text: string;
  data: unknown;
}

export type Credentials =
  | { kind: 'anonymous' }
  | { kind: 'session'; token: string }
  | { kind: 'device'; deviceId: string; deviceSecret: string }
  | { kind: 'localAdmin'; token: string }
  | { kind: 'headers'; headers: Record<string, string> };

function headersFor(credentials: Credentials): Record<string, string> {
  switch (credentials.kind) {
    case 'session': return { authorization: `Bearer ${credentials.token}` };
    case 'localAdmin': return { [LOCAL_ADMIN_HEADER]: credentials.token };
    case 'headers': return credentials.headers;
    default: return {};
  }
}

type TrpcBody = { result?: { data?: unknown }; error?: { message?: string; data?: { code?: string } } };
function parseBody(text: string): TrpcBody | null {
  try {
    return JSON.parse(text) as TrpcBody;
  } catch {
    return null;
  }
}

function outcomeOfBody(status: number, text: string): Outcome {
  const json = parseBody(text);
  if (json?.error) return { ok: false, code: json.error.data?.code ?? `HTTP_${status}`, message: json.error.message ?? '', text, data: null };
  if (status >= 400 || !json) return { ok: false, code: `HTTP_${status}`, message: text.slice(0, 300), text, data: null };
  return { ok: true, code: null, message: '', text, data: json.result?.data };
}

/** The HTTP request a tRPC call over plain HTTP is. */
function httpRequestOf(baseUrl: string, path: string, type: ProcedureType, input: unknown, credentials: Credentials) {
  const url = new URL(`${baseUrl}/trpc/${path}`);
  const headers = { 'content-type': 'application/json', ...headersFor(credentials) };
  if (credentials.kind === 'device') url.searchParams.set('connectionParams', JSON.stringify({ deviceId: credentials.deviceId, deviceSecret: credentials.deviceSecret }));
  if (type !== 'mutation' && input !== undefined) url.searchParams.set('input', JSON.stringify(input));
  const body = type === 'mutation' && input !== undefined ? JSON.stringify(input) : undefined;
  return { url, method: type === 'mutation' ? 'POST' as const : 'GET' as const, headers, body };
}

/** One query or mutation over plain HTTP, as a browser or script would send it. */
export async function httpCall(baseUrl: string, path: string, type: ProcedureType, input: unknown, credentials: Credentials): Promise<Outcome> {
  const { url, method, headers, body } = httpRequestOf(baseUrl, path, type, input, credentials);
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
  return outcomeOfBody(res.status, await res.text());
}

/**
 * `httpCall` from a chosen source address in 127.0.0.0/8 (Linux routes the whole block to
 * loopback): limits counted per address then see one client per address, as they would a
 * machine's, and tests on one server each spend a budget of their own.
 */
export async function httpCallFrom(localAddress: string, baseUrl: string, path: string, type: ProcedureType, input: unknown, credentials: Credentials): Promise<Outcome> {
  const { url, method, headers, body } = httpRequestOf(baseUrl, path, type, input, credentials);
  const { status, text } = await httpExchange(url, { method, headers, body, localAddress });
  return outcomeOfBody(status, text);
}

function outcomeOfError(error: unknown): Outcome {
  if (error instanceof TRPCClientError) {
    const data = error.data as { code?: string } | undefined;
    return { ok: false, code: data?.code ?? 'CLIENT_ERROR', message: error.message, text: `${error.message} ${JSON.stringify(error.data ?? null)}`, data: null };
  }
  return { ok: false, code: 'TRANSPORT', message: String(error), text: String(error), data: null };
}

/** WebSocket clients by credentials (connection params, or headers for the local admin); close them with `closeAll`. */
export class Sockets {
  private clients = new Map<string, { client: TRPCUntypedClient<AnyRouter>; close(): Promise<void> }>();
  constructor(private readonly baseUrl: string) {}

  client(credentials: Credentials): TRPCUntypedClient<AnyRouter> {
    const key = JSON.stringify(credentials);
    let entry = this.clients.get(key);
    if (!entry) {
      const headers = headersFor(credentials);
      class WithHeaders extends WebSocket {
        constructor(address: string | URL, protocols?: string | string[]) {
          super(address, protocols, { headers });
        }
      }
      const socket = createWSClient({
        url: `${this.baseUrl.replace(/^http/, 'ws')}/trpc`, WebSocket: WithHeaders as never, connectionParams: paramsFor(credentials), retryDelayMs: () => 200,
      });
      entry = { client: createTRPCUntypedClient({ links: [wsLink({ client: socket })] }), close: () => socket.close() };
      this.clients.set(key, entry);
    }
    return entry.client;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.clients.values()].map((entry) => entry.close()));
    this.clients.clear();
  }
}

export function paramsFor(credentials: Credentials): Record<string, string> {
  switch (credentials.kind) {
    case 'session': return { sessionToken: credentials.token };
    case 'device': return { deviceId: credentials.deviceId, deviceSecret: credentials.deviceSecret };
    default: return {};
  }
}

/**
 * How long a started subscription may stay quiet before it counts as accepted. The clock starts
 * when the server says the subscription started (its middlewares — session, key, role — passed):
 * on a loaded machine getting that far can take longer than any fixed wait, and a refusal that
 * arrives late must not pass for a success. Checks inside the procedure's body come after
 * "started", hence the quiet wait after it.
 */
export const SUBSCRIPTION_WAIT_MS = 10_000;
/** A subscription neither started nor refused by then is reported as such (a failure, never a success). */
const SUBSCRIPTION_START_MS = 120_000;

/** The first event (or the error) of a subscription, then unsubscribes. */
export function subscribeOnce(client: TRPCUntypedClient<AnyRouter>, path: string, input: unknown, timeoutMs = SUBSCRIPTION_WAIT_MS): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      subscription.unsubscribe();
      resolve(outcome);
    };
    let timer = setTimeout(() => finish({ ok: false, code: 'NEVER_STARTED', message: 'neither started nor refused', text: '', data: undefined }), SUBSCRIPTION_START_MS);
    const subscription = client.subscription(path, input, {
      onStarted: () => {
        clearTimeout(timer);
        timer = setTimeout(() => finish({ ok: true, code: null, message: 'no event yet', text: '', data: undefined }), timeoutMs);
      },
      onData: (data: unknown) => finish({ ok: true, code: null, message: '', text: JSON.stringify(data), data }),
      onError: (error: unknown) => finish(outcomeOfError(error)),
    });
  });
}

/** Any procedure with any credentials: HTTP for queries and mutations (WebSocket for device credentials), WebSocket for subscriptions. */
export async function invoke(h: Harness, sockets: Sockets, info: Pick<ProcedureInfo, 'path' | 'type'>, input: unknown, credentials: Credentials): Promise<Outcome> {
  if (info.type === 'subscription') return subscribeOnce(sockets.client(credentials), info.path, input);
  if (credentials.kind === 'device') {
    const client = sockets.client(credentials);
    try {
      const data = info.type === 'query' ? await client.query(info.path, input) : await client.mutation(info.path, input);
      return { ok: true, code: null, message: '', text: JSON.stringify(data ?? null), data };
    } catch (error) {
      return outcomeOfError(error);
    }
  }
  return httpCall(h.server.url, info.path, info.type, input, credentials);
}

export async function localAdminCredentials(h: Harness): Promise<Credentials> {
  return { kind: 'localAdmin', token: (await readLocalAdminToken(h.dataDir))! };
}

// ---------------------------------------------------------------------------------------------
// Snapshots of one organization's rows.

/**
 * Every row that belongs to `org`, table by table, found through the schema (a new table with an
 * organization_id or a device/command/ticket/job reference is covered without a change here).
 */
export async function snapshotOrg(h: Harness, org: OrgFixture): Promise<Record<string, string[]>> {
  const { rows: columns } = await h.server.services.db.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND column_name IN ('organization_id', 'device_id', 'command_id', 'ticket_id', 'job_id')`,
  );
  const byTable = new Map<string, Set<string>>();
  for (const { table_name: table, column_name: column } of columns) {
    if (!byTable.has(table)) byTable.set(table, new Set());
    byTable.get(table)!.add(column);
  }
  const filters: Record<string, string> = {
    organization_id: 'organization_id = $1',
    device_id: 'device_id IN (SELECT id FROM devices WHERE organization_id = $1)',
    command_id: 'command_id IN (SELECT id FROM commands WHERE organization_id = $1)',
    ticket_id: 'ticket_id IN (SELECT id FROM tickets WHERE organization_id = $1)',
    job_id: 'job_id IN (SELECT id FROM bulk_jobs WHERE organization_id = $1)',
  };
  const snapshot: Record<string, string[]> = {};
  const tables = [...byTable.entries()].sort(([a], [b]) => a.localeCompare(b));
  snapshot.organizations = (await h.server.services.db.query('SELECT * FROM organizations WHERE id = $1', [org.orgId])).rows.map((row) => JSON.stringify(row));
  for (const [table, cols] of tables) {
    const column = ['organization_id', 'device_id', 'command_id', 'ticket_id', 'job_id'].find((c) => cols.has(c))!;
    const { rows } = await h.server.services.db.query(`SELECT * FROM ${table} WHERE ${filters[column]}`, [org.orgId]);
    snapshot[table] = rows.map((row) => JSON.stringify(row)).sort();
  }
  return snapshot;
}

/** Strings that identify `org`'s data: none may appear in another organization's answers. */
export function identifying(org: OrgFixture): string[] {
  return [
    org.orgId, org.name, org.device.id, org.device.hostname, org.ticketId, org.token.id, org.commandId, org.jobId, org.shellSessionId, org.deploymentId,
    org.targetUserId, org.alertId, org.alertRuleId, org.channelId, org.maintenanceWindowId, org.webhookId, org.webhookEventId, org.apiKey.id, org.apiKey.key, ...Object.values(org.users).flatMap((user) => [user.id, user.email]),
  ];
}

// ---------------------------------------------------------------------------------------------
// Engines.

export interface EngineVariant {
  name: string;
  relational: 'pglite' | 'postgres';
  cache: 'memory' | 'redis';
  env: Record<string, string>;
  /** Deletes this variant's Redis keys: counters left by an earlier test (same window) would refuse the next one. */
  reset(): Promise<void>;
}

/**
 * PGlite with the in-process cache always; PostgreSQL with Redis too when both are configured.
 * Each Redis variant gets its own key prefix and queue prefix, so rate-limit keys
 * (`ratelimit:ip:127.0.0.1:...`) and job queues are never shared with another test file running
 * at the same time, and `reset` removes exactly this variant's keys. (Numbered Redis databases
 * were tried before: two files picking the same number wiped each other's keys mid-run.)
 */
export function engineVariants(): EngineVariant[] {
  const variants: EngineVariant[] = [{ name: 'PGlite + in-process cache', relational: 'pglite', cache: 'memory', env: {}, reset: async () => undefined }];
  if (process.env.DATABASE_URL && process.env.REDIS_URL) {
    const url = process.env.REDIS_URL;
    const keyPrefix = `${unique('sec')}:`;
    variants.push({
      name: 'PostgreSQL + Redis', relational: 'postgres', cache: 'redis', env: { REDIS_URL: url, REDIS_KEY_PREFIX: keyPrefix, QUEUE_PREFIX: `${keyPrefix}q` },
      async reset() {
        const client = new Redis(url, { maxRetriesPerRequest: 2 });
        try {
          let cursor = '0';
          do {
            const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
            if (keys.length > 0) await client.del(...keys);
            cursor = next;
          } while (cursor !== '0');
        } finally {
          client.disconnect();
        }
      },
    });
  } else {
    console.warn('DATABASE_URL and REDIS_URL are not both set: the PostgreSQL + Redis variant of this security test is skipped (PGlite runs)');
  }
  return variants;
}

// ---------------------------------------------------------------------------------------------
// Isolation cases: another organization's ids, one field at a time (tenant-isolation, cross-organization).

/** Fields whose foreign id filters a list: the answer is a success that holds nothing of the other organization. */
export const FILTERS: Record<string, string[]> = {
  'commands.list': ['bulkJobId'],
  'audit.list': ['userId', 'resourceId'],
  'live.devices': ['deviceId'],
  // A site, tag or custom field of another organization links to none of the caller's devices (a group is not found).
  'devices.list': ['deviceIds', 'siteId', 'tagId', 'field.fieldId'],
  'quarantine.list': ['deviceId'],
  // Grants into another provider's client: none of the caller's.
  'providers.grants.list': ['organizationId'],
  'patches.deployments': ['deviceId'],
};

/**
 * Procedures that act on many ids and report each one that cannot change, changing the rest (an
 * inbox selection may hold an alert resolved meanwhile). With an own id and a foreign one, the
 * answer is a success that reports the foreign id as not found, as it would an id nobody has.
 */
export const PER_ID_REPORTS = new Set(['alerts.acknowledge', 'alerts.resolve']);

/**
 * Id fields that name no organization's resource: a file transfer is named by its sender and
 * lives under the device beside it, whose id is swapped for the other organization's in its own case.
 */
const SENDER_NAMED = new Set(['transferId']);

export interface IsolationCase {
  info: ProcedureInfo;
  /** Where the foreign id went: a field (`deviceId`) or a nested place (`condition<script>.scriptId`, `scope<site>.id`). */
  field: string;
  input: unknown;
  /** The same input with the caller's own id there: accepted, so the refusal of `input` is about the organization. */
  ownInput: unknown;
  /** The foreign value the case sent (the only thing of the other organization the answer may echo). */
  injected: unknown;
}

const MIXED_SUFFIX = ' (after an own id)';

/** A per-id report (`{ failed: [{ id, reason }] }`) that names each id as not found. */
function reportsNotFound(data: unknown, ids: string[]): boolean {
  const failed = (data as { failed?: { id: string; reason: string }[] } | undefined)?.failed ?? [];
  return ids.every((id) => failed.some((entry) => entry.id === id && /not found/i.test(entry.reason)));
}

/** Kinds whose value is a list of ids: their cases also mix an own id with the foreign one. */
const LIST_KINDS = new Set<IdKind>(['devices', 'alerts', 'channels', 'tags']);

/** Where `info`'s input holds ids, at any depth, and what each names. */
export function idPathsOf(info: ProcedureInfo): IdPath[] {
  return info.shape ? findIdPaths(info.shape, namingFor(info.path)) : [];
}

function namingFor(path: string): IdNaming {
  return {
    isId: isIdField,
    kindOf: (name) => idKind(path, name),
    recordKeyKind: (name) => ID_KEYED_RECORDS[name],
    namedByKind: KIND_NAMED_IDS,
  };
}

function fillingFor(path: string, org: OrgFixture) {
  const sampleOf = (key: string) => SAMPLE_VALUES[key]?.(org);
  return {
    naming: namingFor(path),
    ownId: (kind: string) => idValue(org, kind as IdKind),
    sampleAt: (label: string) => sampleOf(`${path}:${label}`) ?? (/[.<[{]/.test(label) ? sampleOf(label) : undefined),
    sampleNamed: (name: string) => sampleOf(`${path}:${name}`) ?? sampleOf(name),
  };
}

/** Every procedure a person calls that takes an id, anywhere in its input. */
export const idTakingProcedures = () => procedures.filter((info) => authKind(info.path) === 'user' && idPathsOf(info).length > 0);

/**
 * For each id of each candidate, top-level or nested: `own`'s valid input with `foreign`'s id in
 * that place (lists of ids also mixed: own first, then foreign). Inputs and nested places the
 * dictionaries cannot build, or build into something the schema refuses, are listed.
 */
export function isolationCases(candidates: ProcedureInfo[], own: OrgFixture, foreign: OrgFixture): { cases: IsolationCase[]; construction: string[] } {
  const cases: IsolationCase[] = [];
  const construction: string[] = [];
  for (const info of candidates) {
    let base: Record<string, unknown>;
    try {
      base = buildInput(info, own)!;
    } catch (error) {
      if (!(error instanceof MissingSampleError)) throw error;
      construction.push(error.message);
      continue;
    }
    for (const path of idPathsOf(info)) {
      if (path.steps.length === 1 && SENDER_NAMED.has(path.label)) continue;
      try {
        // A nested place gets fresh names: a create that succeeds for one place must not make the next a name conflict.
        cases.push(...casesAt(info, path.steps.length === 1 ? base : buildInput(info, own)!, path, own, foreign));
      } catch (error) {
        if (!(error instanceof UnbuildableError || error instanceof MissingSampleError)) throw error;
        construction.push(`${info.path}: ${error.message}`);
      }
    }
  }
  return { cases, construction };
}

function casesAt(info: ProcedureInfo, base: Record<string, unknown>, path: IdPath, own: OrgFixture, foreign: OrgFixture): IsolationCase[] {
  const kind = path.kind as IdKind | undefined;
  if (!kind) throw new MissingSampleError(`id-like "${path.label}" names no kind: add it to ID_FIELDS (or ID_KEYED_RECORDS, KIND_NAMED_IDS) in test/security/support.ts`);
  const fill = fillingFor(info.path, own);
  const at = (value: unknown) => withIdAt(info.shape!, base, path, value, fill);
  // At the top level `base` already holds the own id (so calls that end a resource run once per procedure).
  const ownInput = path.steps.length === 1 ? base : at(idValue(own, kind));
  // A nested place is only attacked if the input that reaches it is one the server accepts as such.
  if (path.steps.length > 1) {
    const parsed = info.input?.safeParse(ownInput);
    if (parsed && !parsed.success) {
      const issues = parsed.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
      throw new UnbuildableError(`the input built for "${path.label}" does not parse (${issues}): add a sample for it to SAMPLE_VALUES`);
    }
  }
  const attacks: unknown[] = [idValue(foreign, kind)];
  if (LIST_KINDS.has(kind)) attacks.push([...idValue(own, kind) as unknown[], ...idValue(foreign, kind) as unknown[]]);
  return attacks.map((injected, i) => ({ info, field: i === 0 ? path.label : `${path.label}${MIXED_SUFFIX}`, input: at(injected), ownInput, injected }));
}

/**
 * Runs the cases as `credentials` and lists what went wrong: a refusal other than `refused`
 * accepts (an empty success where the id only filters a list), or an answer that carries anything
 * of `foreign` beyond the id the case sent.
 */
export async function isolationFailures(h: Harness, sockets: Sockets, cases: IsolationCase[], credentials: Credentials, foreign: OrgFixture,
  refused: (code: string | null) => boolean): Promise<string[]> {
  const failures: string[] = [];
  const foreignStrings = identifying(foreign);
  const check = (c: IsolationCase, outcome: Outcome) => {
    const label = `${c.info.path} with ${foreign.name}'s ${c.field}`;
    const mixed = c.field.endsWith(MIXED_SUFFIX);
    const filterOnly = FILTERS[c.info.path]?.includes(mixed ? c.field.slice(0, -MIXED_SUFFIX.length) : c.field);
    // A caller refused the whole procedure by role (where `refused` accepts that) learns nothing either.
    const filteredOk = outcome.ok || (outcome.code === 'FORBIDDEN' && refused('FORBIDDEN'));
    if (mixed && PER_ID_REPORTS.has(c.info.path)) {
      const foreignIds = (c.injected as string[]).slice(-1);
      if (!filteredOk || (outcome.ok && !reportsNotFound(outcome.data, foreignIds))) {
        failures.push(`${label}: expected a success reporting the foreign id as not found, got ${outcome.code ?? 'success'} ${outcome.text.slice(0, 200)}`);
      }
    } else if (filterOnly ? !filteredOk : !refused(outcome.code)) {
      failures.push(`${label}: expected ${filterOnly ? 'an empty success' : 'a refusal'}, got ${outcome.code ?? 'success'} ${outcome.message.slice(0, 200)}`);
    }
    const injected = JSON.stringify(c.injected);
    const leaked = foreignStrings.filter((s) => !injected.includes(s) && outcome.text.includes(s));
    if (leaked.length > 0) failures.push(`${label}: the answer carries ${leaked.join(', ')}`);
  };
  // Independent calls: run them a few at a time.
  for (let i = 0; i < cases.length; i += 8) {
    const batch = cases.slice(i, i + 8);
    const outcomes = await Promise.all(batch.map((c) => invoke(h, sockets, c.info, c.input, credentials)));
    batch.forEach((c, j) => check(c, outcomes[j]!));
  }
  return failures;
}
