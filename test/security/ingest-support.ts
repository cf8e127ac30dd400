import { WebSocket } from 'ws';
import { fakeInventory, type Harness } from '@ninjait/server/testing';
import { login, PASSWORD, unique } from './support.ts';

/**
 * What the ingest tests share: an organization with one enrolled device and an admin, an agent
 * call sent as raw JSON text over the agent's real WebSocket (so a test can send what
 * JSON.stringify cannot, like `1e400`), and waits that fail instead of hanging when a drainer is stuck.
 */

export interface IngestOrg {
  orgId: string;
  deviceId: string;
  deviceSecret: string;
  hostname: string;
  /** An admin's session token, for quarantine.list. */
  adminSession: string;
}

/** An organization, an admin in it, and one device enrolled through the API. */
export async function createIngestOrg(h: Harness, label: string): Promise<IngestOrg> {
  const org = await h.admin.admin.organizations.create.mutate({ name: `${label}-${unique('org')}` });
  const email = `admin-${unique()}@${label.toLowerCase()}.test`;
  await h.admin.admin.users.create.mutate({ org: org.id, email, password: PASSWORD, role: 'admin' });
  const { token } = await h.admin.admin.tokens.create.mutate({ org: org.id });
  const hostname = `host-${unique()}`;
  const enrolled = await h.http().agent.enroll.mutate({ token, inventory: fakeInventory(unique('machine'), hostname) });
  return { orgId: org.id, deviceId: enrolled.deviceId, deviceSecret: enrolled.deviceSecret, hostname, adminSession: await login(h, email) };
}

export interface RawAnswer {
  ok: boolean;
  /** The tRPC error code, or null on success. */
  code: string | null;
  data: unknown;
}

/**
 * One agent call on a fresh WebSocket, with `inputJson` spliced in as raw text: tRPC's wire
 * protocol, connection parameters first, as the agent's link sends it.
 */
export function rawAgentCall(serverUrl: string, credentials: { deviceId: string; deviceSecret: string }, path: string, inputJson: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${serverUrl.replace(/^http/, 'ws')}/trpc?connectionParams=1`);
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no answer to ${path} within 20 s`));
    }, 20_000);
    socket.on('open', () => {
      socket.send(JSON.stringify({ method: 'connectionParams', data: credentials }));
      socket.send(`{"id":1,"method":"mutation","params":{"path":${JSON.stringify(path)},"input":${inputJson}}}`);
    });
    socket.on('message', (raw: Buffer) => {
      const message = JSON.parse(raw.toString()) as { id?: number; result?: { data?: unknown }; error?: { data?: { code?: string } } };
      if (message.id !== 1) return;
      clearTimeout(timer);
      socket.close();
      resolve(message.error
        ? { ok: false, code: message.error.data?.code ?? 'UNKNOWN', data: null }
        : { ok: true, code: null, data: message.result?.data });
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Resolves when every drainer has caught up with the log; rejects (naming the lag) if they have not within `ms`. */
export async function drainedWithin(h: Harness, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void drainLag(h).then((lag) => reject(new Error(`drainers did not catch up within ${ms} ms; rows behind per sink: ${JSON.stringify(lag)}`)), reject);
    }, ms);
  });
  try {
    await Promise.race([h.server.drained(), stuck]);
  } finally {
    clearTimeout(timer);
  }
}

/** Log rows each drainer has not passed yet. */
export async function drainLag(h: Harness): Promise<Record<string, number>> {
  const { rows } = await h.server.services.db.query<{ sink: string; lag: number }>(
    `SELECT c.sink, GREATEST(0, COALESCE((SELECT max(id) FROM ingest_log), 0) - c.position)::int AS lag FROM drain_cursors c ORDER BY c.sink`);
  return Object.fromEntries(rows.map((row) => [row.sink, row.lag]));
}

export interface QuarantineRow { sink: string; logId: number | null; deviceId: string; organizationId: string; seq: number; reason: string }

/** Every quarantined record, by the database (across organizations). */
export async function quarantineRows(h: Harness): Promise<QuarantineRow[]> {
  const { rows } = await h.server.services.db.query<QuarantineRow>(
    `SELECT sink, log_id AS "logId", device_id AS "deviceId", organization_id AS "organizationId", seq, reason
     FROM ingest_quarantine ORDER BY id`);
  return rows;
}

/** A Prometheus counter's value per label set, from the server's registry. */
export async function counterValues(h: Harness, name: string): Promise<Record<string, number>> {
  const metric = await h.server.services.metrics.registry.getSingleMetric(name)?.get();
  return Object.fromEntries((metric?.values ?? []).map((value) => [JSON.stringify(value.labels), value.value]));
}
