import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { until } from '../../../test-support/command-fixtures.ts';
import { migrate, openRelationalStore, type RelationalStore } from '../../stores/relational/index.ts';
import { createMemoryCache, type CacheStore } from '../../stores/cache/index.ts';
import { createLogger } from '../../platform/obs/logger.ts';
import { appendOutput } from './output-append.ts';
import { createOutputLedger, type OutputLedger } from './output-ledger.ts';
import { createLocalDevices } from './local-devices.ts';
import { createPublisher } from './events.ts';
import { deviceChannel } from './channels.ts';
import { runCommand, type RunDeps } from './requests.ts';
import { owedOnConnect } from './repository.ts';
import type { Requester } from './requests.ts';
import type { AgentMessage, DeviceChannelMessage } from './types.ts';
import { createDelivery } from './delivery.ts';
import { noEvents } from '../events/index.ts';

const MAX = 100;
const requester: Requester = { userId: null, label: 'test', organizationId: null, ip: null };

describe.each(relationalEngines())('command delivery and output on %s', (engine) => {
  let db: RelationalStore;
  let cache: CacheStore;
  let drop: (() => Promise<void>) | undefined;
  let deviceId: string;
  let ledger: OutputLedger;
  const deps = (local = createLocalDevices()): RunDeps => ({
    db, local, ledger, publisher: createPublisher(cache, createLogger('silent')), auditor: async () => undefined,
  });
  const row = async (id: string) => (await db.query<{ status: string; outputBytes: number; truncated: boolean; deliveryCount: number }>(
    `SELECT status, output_bytes AS "outputBytes", output_truncated AS truncated, delivery_count AS "deliveryCount" FROM commands WHERE id = $1`, [id])).rows[0]!;
  const stored = async (id: string) => (await db.query<{ seq: number; data: string }>(
    'SELECT seq, data FROM command_output WHERE command_id = $1 ORDER BY seq', [id])).rows;
  /** The device's stream is here and takes it: the command starts `sent`, as the agent would get it. */
  const connected = (device = deviceId) => {
    const local = createLocalDevices();
    local.attach(device, () => true);
    return local;
  };
  const newCommand = async (local = connected(), device = deviceId) => (await runCommand(deps(local), requester, {
    deviceId: device, script: 'echo hi', timeoutSec: 30, expiresInSec: 60,
  }));
  const newDevice = async () => (await db.query<{ id: string }>(
    `INSERT INTO devices (name, organization_id, status, os_type) SELECT 'd', organization_id, 'online', 'linux' FROM devices WHERE id = $1 RETURNING id`,
    [deviceId])).rows[0]!.id;
  const chunk = (seq: number, data: string) => ({ seq, stream: 'stdout' as const, data });

  beforeAll(async () => {
    const scratch = engine === 'postgres' ? await createScratchDatabase() : null;
    drop = scratch?.drop;
    db = await openRelationalStore({ databaseUrl: scratch?.url });
    await migrate(db);
    cache = createMemoryCache();
    const { rows: [org] } = await db.query<{ id: string }>(`INSERT INTO organizations (name) VALUES ('delivery test') RETURNING id`);
    const { rows: [device] } = await db.query<{ id: string }>(
      `INSERT INTO devices (name, organization_id, status, os_type) VALUES ('d1', $1, 'online', 'linux') RETURNING id`, [org!.id]);
    deviceId = device!.id;
  });
  afterAll(async () => {
    await cache?.close();
    await db?.close();
    await drop?.();
  });
  beforeEach(() => {
    ledger = createOutputLedger();
  });

  it('hands a command to the stream on this instance, written sent', async () => {
    const local = createLocalDevices();
    const got: AgentMessage[] = [];
    local.attach(deviceId, (message) => got.push(message) > 0);
    const command = await newCommand(local);
    expect(command.status).toBe('sent');
    expect(got).toEqual([{ type: 'run', command: { id: command.id, shell: 'sh', interpreter: null, script: 'echo hi', timeoutSec: 30, outputInResult: true } }]);
    expect(await row(command.id)).toMatchObject({ status: 'sent', deliveryCount: 1 });
  });

  it('queues a command whose local stream ended meanwhile, and wakes the other instances', async () => {
    const local = createLocalDevices();
    local.attach(deviceId, () => false);
    const published: string[] = [];
    const unsubscribe = await cache.subscribe(deviceChannel(deviceId), (message) => published.push(message));
    const command = await newCommand(local);
    await unsubscribe();
    expect(await row(command.id)).toMatchObject({ status: 'queued', deliveryCount: 0 });
    expect(published.map((m) => JSON.parse(m) as unknown)).toEqual([{ type: 'run', id: command.id }]);
  });

  it('stores batches once each, in order, and publishes them while writing', async () => {
    const command = await newCommand();
    const live: number[] = [];
    const append = (chunks: { seq: number; stream: 'stdout'; data: string }[]) =>
      appendOutput(db, ledger, deviceId, command.id, chunks, MAX, async (s) => void live.push(...s.map((c) => c.seq)));
    expect(await append([chunk(1, 'bb'), chunk(0, 'a')])).toMatchObject({ accepted: true, truncated: false });
    // A replay (the ack was lost) and a new batch.
    expect((await append([chunk(0, 'a'), chunk(1, 'bb')])).stored).toEqual([]);
    expect((await append([chunk(2, 'ccc')])).stored).toEqual([chunk(2, 'ccc')]);
    expect(await stored(command.id)).toEqual([{ seq: 0, data: 'a' }, { seq: 1, data: 'bb' }, { seq: 2, data: 'ccc' }]);
    expect(await row(command.id)).toMatchObject({ status: 'running', outputBytes: 6, truncated: false });
    expect(live).toEqual([0, 1, 2]);
  });

  it('keeps the byte count right when another instance wrote since this one did (stale ledger)', async () => {
    const command = await newCommand();
    await appendOutput(db, ledger, deviceId, command.id, [chunk(0, 'aaaa')], MAX);
    // Another instance (its own ledger) stores seq 1; ours still believes 4 bytes.
    await appendOutput(db, createOutputLedger(), deviceId, command.id, [chunk(1, 'bbbbb')], MAX);
    await appendOutput(db, ledger, deviceId, command.id, [chunk(1, 'bbbbb'), chunk(2, 'cc')], MAX);
    expect(await stored(command.id)).toEqual([{ seq: 0, data: 'aaaa' }, { seq: 1, data: 'bbbbb' }, { seq: 2, data: 'cc' }]);
    expect((await row(command.id)).outputBytes).toBe(11);
  });

  it('does not count a replayed chunk twice when another instance stored it before this one read the row', async () => {
    const device = await newDevice();
    const command = await newCommand(connected(device), device);
    const other = createOutputLedger();
    // The agent was on the other instance for seqs 2-3, then came here and sent 0-1 again (out of order) and 2-3 again.
    await appendOutput(db, other, device, command.id, [chunk(2, 'cc'), chunk(3, 'dd')], MAX);
    ledger.delete(command.id);
    await appendOutput(db, ledger, device, command.id, [chunk(0, 'a'), chunk(1, 'b')], MAX);
    await appendOutput(db, ledger, device, command.id, [chunk(2, 'cc'), chunk(3, 'dd')], MAX);
    expect((await row(command.id)).outputBytes).toBe(6);
    expect((await stored(command.id)).map((r) => r.seq)).toEqual([0, 1, 2, 3]);
  });

  it('never stores more than the cap when batches race each other', async () => {
    const command = await newCommand();
    // Three writers (instances the agent reconnected to), each sending its batches one after another.
    await Promise.all([ledger, createOutputLedger(), createOutputLedger()].map(async (own, w) => {
      for (let i = 0; i < 4; i++) await appendOutput(db, own, deviceId, command.id, [chunk(i * 3 + w, 'x'.repeat(10))], MAX);
    }));
    const rows = await stored(command.id);
    const bytes = rows.reduce((sum, r) => sum + r.data.length, 0);
    expect(bytes).toBe(MAX);
    expect(await row(command.id)).toMatchObject({ outputBytes: MAX, truncated: true });
  });

  it('settles a connecting device in one go: expires, re-sends (or cancels) and claims, oldest first', async () => {
    const device = await newDevice();
    const offline = createLocalDevices();
    const expired = await newCommand(offline, device);
    const cancelled = await newCommand(connected(device), device);
    const first = await newCommand(offline, device);
    const second = await newCommand(offline, device);
    await db.query(`UPDATE commands SET expires_at = NOW() - INTERVAL '1 second' WHERE id = $1`, [expired.id]);
    await db.query(`UPDATE commands SET cancel_requested_at = NOW() WHERE id = $1`, [cancelled.id]);
    const owed = await owedOnConnect(db, device);
    expect(owed.expired).toEqual([expired.id]);
    expect(owed.resend).toEqual([{ spec: expect.objectContaining({ id: cancelled.id }), cancel: true }]);
    expect(owed.claimed.map((spec) => spec.id)).toEqual([first.id, second.id]);
    expect(owed.claimed[0]).toEqual({ id: first.id, shell: 'sh', interpreter: null, script: 'echo hi', timeoutSec: 30, outputInResult: true });
    // The next connection gets the claimed ones again (they may not have arrived), nothing twice claimed.
    const again = await owedOnConnect(db, device);
    expect(again.claimed).toEqual([]);
    expect(again.resend.map((r) => [r.spec.id, r.cancel])).toEqual([[cancelled.id, true], [first.id, false], [second.id, false]]);
    expect(await row(expired.id)).toMatchObject({ status: 'expired' });
    expect(await row(first.id)).toMatchObject({ status: 'sent', deliveryCount: 2 });
  });

  it('claims in one statement the commands other instances woke several streams here for, each marked for its output', async () => {
    const devices = [await newDevice(), await newDevice(), await newDevice(), await newDevice()];
    const claims: string[] = [];
    let answered = 0;
    const counting: RelationalStore = {
      ...db,
      query: async (text, params) => {
        if (/^update "commands"/i.test(text.trimStart())) claims.push(text);
        try {
          return await db.query(text, params);
        } finally {
          answered += 1;
        }
      },
    };
    const delivery = createDelivery({
      db: counting, cache, events: noEvents, publisher: createPublisher(cache, createLogger('silent')), log: createLogger('silent'), local: createLocalDevices(), ledger,
    });
    const abort = new AbortController();
    const streams = devices.map((device) => delivery.stream(device, abort.signal));
    const firsts = streams.map((stream) => stream.next());
    // Each stream has subscribed and settled what it was owed (one statement each, nothing owed): it waits for its channel.
    await until(() => answered === devices.length);
    // Queued by "another instance" (no stream there), whose wake-ups arrive here together.
    const wakeUps: [string, DeviceChannelMessage][] = [];
    const elsewhere = { ...deps(createLocalDevices()), publisher: { ...createPublisher(cache, createLogger('silent')), toDevice: async (d: string, m: DeviceChannelMessage) => void wakeUps.push([d, m]) } };
    const commands = await Promise.all(devices.map((device) => runCommand(elsewhere, requester, { deviceId: device, script: 'echo hi', timeoutSec: 30, expiresInSec: 60 })));
    claims.length = 0;
    await Promise.all(wakeUps.map(([device, message]) => cache.publish(deviceChannel(device), JSON.stringify(message))));
    const got = await Promise.all(firsts);
    abort.abort();
    expect(got.map((result) => (result.value as Extract<AgentMessage, { type: 'run' }>).command.id)).toEqual(commands.map((command) => command.id));
    expect(claims).toHaveLength(1);
    for (const command of commands) {
      expect(await row(command.id)).toMatchObject({ status: 'sent', deliveryCount: 1 });
      expect(ledger.get(command.id)).toEqual({ outputBytes: 0, truncated: false, nextSeq: 0 });
    }
  });

  it('refuses output for a finished command', async () => {
    const command = await newCommand();
    await db.query(`UPDATE commands SET status = 'succeeded', finished_at = NOW() WHERE id = $1`, [command.id]);
    expect(await appendOutput(db, ledger, deviceId, command.id, [chunk(0, 'late')], MAX)).toMatchObject({ accepted: false });
    expect(await stored(command.id)).toEqual([]);
  });
});
