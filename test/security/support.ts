import { randomUUID } from 'node:crypto';
import { createTRPCUntypedClient, createWSClient, wsLink, TRPCClientError, type TRPCUntypedClient } from '@trpc/client';
import { WebSocket } from 'ws';
import { Redis } from 'ioredis';
import type { AnyRouter } from '@trpc/server';
import { appRouter, LOCAL_ADMIN_HEADER, readLocalAdminToken } from '@ninjait/server';
import type { Role } from '@ninjait/shared';
import { fakeInventory, type Harness } from '../../server/src/testing/harness.ts';

/**
 * What the security suite shares: the procedures found in the router at run time, how each is
 * authenticated, the dictionary that builds a valid input for any of them from field names, two
 * organizations' real fixtures, and one way to call anything over HTTP or WebSocket.
 */

export type ProcedureType = 'query' | 'mutation' | 'subscription';

/** The parts of a zod v4 schema this file reads. */
export interface ZodLike {
  _zod: { def: { type: string; format?: string; innerType?: ZodLike; in?: ZodLike; element?: ZodLike; shape?: Record<string, ZodLike> } };
  shape?: Record<string, ZodLike>;
  safeParse(value: unknown): { success: boolean };
}

export interface ProcedureInfo {
  path: string;
  type: ProcedureType;
  /** The input's object shape (unwrapped from optional/default), or null for no or non-object input. */
  shape: Record<string, ZodLike> | null;
  /** The procedure accepts no input at all (`undefined`). */
  inputOptional: boolean;
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'pipe', 'readonly']);

export function unwrap(schema: ZodLike): ZodLike {
  let current = schema;
  while (WRAPPERS.has(current._zod.def.type)) {
    const inner = current._zod.def.type === 'pipe' ? current._zod.def.in : current._zod.def.innerType;
    if (!inner) break;
    current = inner;
  }
  return current;
}

type RawProcedure = { _def: { type: ProcedureType; inputs: ZodLike[] } };
export const procedures: ProcedureInfo[] = Object.entries((appRouter as unknown as { _def: { procedures: Record<string, RawProcedure> } })._def.procedures)
  .map(([path, procedure]) => {
    const input = procedure._def.inputs[0];
    const object = input ? unwrap(input) : null;
    return {
      path,
      type: procedure._def.type,
      shape: object?._zod.def.type === 'object' ? (object.shape ?? object._zod.def.shape ?? null) : null,
      inputOptional: !input || input.safeParse(undefined).success,
    };
  });

export const hasProcedure = (path: string) => procedures.some((procedure) => procedure.path === path);
export const procedure = (path: string) => procedures.find((p) => p.path === path);

/**
 * Procedures anyone may call without a session or device credentials, and why.
 * Everything else must refuse an anonymous caller with UNAUTHORIZED.
 */
export const PUBLIC_PROCEDURES: Record<string, string> = {
  'auth.login': 'how a session is obtained; rate-limited per address and email, accounts lock after MAX_FAILED_LOGINS',
  'agent.enroll': 'how a device obtains credentials: the enrollment token in the input is the credential; rate-limited per address',
  'updates.check': 'the launcher asks before it has (or after it lost) credentials; release versions are public',
  'updates.confirm': 'the device id and secret are in the input (checked like a socket\'s), for the launcher that has no socket',
};

/**
 * Procedures of the local CLI: the credential file in DATA_DIR, from a loopback address. They act
 * across organizations by design, so the tenant matrix skips them; the auth matrix checks a
 * person's session cannot call them.
 */
export const isLocalAdmin = (path: string) =>
  path.startsWith('admin.') || path.startsWith('commands.local.') || ['updates.adminInstallLinks', 'logs.serverErrors'].includes(path);

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
}

let counter = 0;
/** Unique per process: emails and names that must not collide. */
export const unique = (prefix = 'u') => `${prefix}${process.pid}x${++counter}x${randomUUID().slice(0, 8)}`;

export async function login(h: Harness, email: string, password = PASSWORD): Promise<string> {
  return (await h.http().auth.login.mutate({ email, password })).sessionToken;
}

export async function createOrgFixture(h: Harness, label: string): Promise<OrgFixture> {
  const name = `${label}-${unique('org')}`;
  const org = await h.admin.admin.organizations.create.mutate({ name });
  const users = {} as OrgFixture['users'];
  await Promise.all(ROLES.map(async (role) => {
    const email = `${role}-${unique()}@${label.toLowerCase()}.test`;
    const user = await h.admin.admin.users.create.mutate({ org: org.id, email, password: PASSWORD, role });
    users[role] = { id: user.id, email, session: await login(h, email) };
  }));
  const target = await h.admin.admin.users.create.mutate({ org: org.id, email: `target-${unique()}@${label.toLowerCase()}.test`, password: PASSWORD, role: 'viewer' });
  const owner = h.http({ authorization: `Bearer ${users.owner.session}` });
  const { token: enrollToken } = await h.admin.admin.tokens.create.mutate({ org: org.id });
  const hostname = `host-${unique()}`;
  const enrolled = await h.http().agent.enroll.mutate({ token: enrollToken, inventory: fakeInventory(unique('machine'), hostname) });
  const token = await owner.tokens.create.mutate({ name: `spare-${label}`, maxUses: 5 });
  const ticket = await owner.tickets.create.mutate({ title: `ticket-${unique()}`, deviceId: enrolled.deviceId, assignedTo: users.technician.id });
  const command = await owner.commands.run.mutate({ deviceId: enrolled.deviceId, script: 'echo fixture' });
  const job = await owner.jobs.create.mutate({ script: 'echo fixture job', deviceIds: [enrolled.deviceId] });
  const shell = await owner.shell.open.mutate({ deviceId: enrolled.deviceId });
  return {
    name, orgId: org.id, users, targetUserId: target.id,
    device: { id: enrolled.deviceId, secret: enrolled.deviceSecret, hostname },
    token: { id: token.record.id, secret: token.token },
    ticketId: ticket.id, commandId: command.id, jobId: job.id, shellSessionId: shell.sessionId,
  };
}

// ---------------------------------------------------------------------------------------------
// Building inputs from field names.

export type IdKind = 'device' | 'devices' | 'user' | 'ticket' | 'token' | 'command' | 'job' | 'shellSession';

/** `id` means the resource of the procedure's router. */
const ID_BY_ROUTER: Record<string, IdKind> = {
  tickets: 'ticket', tokens: 'token', devices: 'device', commands: 'command', jobs: 'job', users: 'user',
};

/**
 * Id-like fields and the kind of resource they name. A new id-like field must be added here
 * (the matrix fails naming it), so every id a procedure takes gets a foreign-organization case.
 */
export const ID_FIELDS: Record<string, IdKind | ((path: string) => IdKind | undefined)> = {
  id: (path) => path.split('.').slice(0, -1).map((segment) => ID_BY_ROUTER[segment]).find(Boolean),
  userId: 'user', assignedTo: 'user', targetUserId: 'user',
  deviceId: 'device', deviceIds: 'devices',
  ticketId: 'ticket', tokenId: 'token', commandId: 'command', bulkJobId: 'job', jobId: 'job',
  sessionId: 'shellSession',
  // Free text in the schema, but an id all the same: any foreign resource's id must find nothing.
  resourceId: 'ticket',
};

export function isIdField(name: string, schema: ZodLike): boolean {
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
  org: (org) => org.orgId,
  /** `commands.local.run`: a device id or name. */
  device: (org) => org.device.id,
};

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

/** One query or mutation over plain HTTP, as a browser or script would send it. */
export async function httpCall(baseUrl: string, path: string, type: ProcedureType, input: unknown, credentials: Credentials): Promise<Outcome> {
  const url = new URL(`${baseUrl}/trpc/${path}`);
  const init: RequestInit = { headers: { 'content-type': 'application/json', ...headersFor(credentials) } };
  if (credentials.kind === 'device') url.searchParams.set('connectionParams', JSON.stringify({ deviceId: credentials.deviceId, deviceSecret: credentials.deviceSecret }));
  if (type === 'mutation') {
    init.method = 'POST';
    if (input !== undefined) init.body = JSON.stringify(input);
  } else if (input !== undefined) {
    url.searchParams.set('input', JSON.stringify(input));
  }
  const res = await fetch(url, init);
  return outcomeOfBody(res.status, await res.text());
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

/** How long a subscription may stay quiet before it counts as accepted (refusals arrive at once). */
export const SUBSCRIPTION_WAIT_MS = 10_000; // generous: on a loaded CI machine a refusal can take seconds

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
    const timer = setTimeout(() => finish({ ok: true, code: null, message: 'no event yet', text: '', data: undefined }), timeoutMs);
    const subscription = client.subscription(path, input, {
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
    org.orgId, org.name, org.device.id, org.device.hostname, org.ticketId, org.token.id, org.commandId, org.jobId, org.shellSessionId,
    org.targetUserId, ...Object.values(org.users).flatMap((user) => [user.id, user.email]),
  ];
}

// ---------------------------------------------------------------------------------------------
// Engines.

export interface EngineVariant {
  name: string;
  relational: 'pglite' | 'postgres';
  cache: 'memory' | 'redis';
  env: Record<string, string>;
  /** Empties this file's Redis database: counters left by an earlier run (same window) would refuse this one. */
  reset(): Promise<void>;
}

/**
 * PGlite with the in-process cache always; PostgreSQL with Redis too when both are configured.
 * `redisDb` gives the file its own Redis database: rate-limit keys (`ratelimit:ip:127.0.0.1:...`)
 * and the job queue would otherwise be shared with every other test file using the same Redis.
 */
export function engineVariants(redisDb: number): EngineVariant[] {
  const variants: EngineVariant[] = [{ name: 'PGlite + in-process cache', relational: 'pglite', cache: 'memory', env: {}, reset: async () => undefined }];
  if (process.env.DATABASE_URL && process.env.REDIS_URL) {
    const redis = new URL(process.env.REDIS_URL);
    redis.pathname = `/${redisDb}`;
    const url = redis.toString();
    variants.push({
      name: 'PostgreSQL + Redis', relational: 'postgres', cache: 'redis', env: { REDIS_URL: url, QUEUE_PREFIX: unique('sec') },
      async reset() {
        const client = new Redis(url);
        await client.flushdb();
        client.disconnect();
      },
    });
  } else {
    console.warn('DATABASE_URL and REDIS_URL are not both set: the PostgreSQL + Redis variant of this security test is skipped (PGlite runs)');
  }
  return variants;
}
