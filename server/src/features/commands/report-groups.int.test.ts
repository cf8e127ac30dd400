import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, relationalEngines } from '../../../test-support/databases.ts';
import { migrate, openRelationalStore, type RelationalStore } from '../../stores/relational/index.ts';
import { createMemoryCache, type CacheStore } from '../../stores/cache/index.ts';
import { createLogger } from '../../platform/obs/logger.ts';
import { createEventPublisher } from '../webhooks/publisher.ts';
import { appendOutput, writeFromMark } from './output-append.ts';
import { createOutputLedger } from './output-ledger.ts';
import { createLocalDevices } from './local-devices.ts';
import { createPublisher } from './events.ts';
import { createReportGroups } from './report-groups.ts';
import { runCommand, type Requester } from './requests.ts';

const requester: Requester = { userId: null, label: 'test', organizationId: null, ip: null };
const DEVICES = 12;

/**
 * The agents' reports written as group commits against a real database: many devices' reports in
 * few statements, each command's result recorded (and its `command.finished` event written) once.
 */
describe.each(relationalEngines())('agent reports as group commits on %s', (engine) => {
  let db: RelationalStore;
  let cache: CacheStore;
  let drop: (() => Promise<void>) | undefined;
  let organizationId: string;
  /** Statements sent through `db` since the last reset, by their first words: the groups' work, counted. */
  const statements: string[] = [];
  const counted = (store: RelationalStore): RelationalStore => ({
    ...store,
    query: (text, params) => {
      statements.push(text);
      return store.query(text, params);
    },
    transaction: (fn) => store.transaction((tx) => fn({ query: (text, params) => {
      statements.push(text);
      return tx.query(text, params);
    } })),
  });
  const startsWith = (prefix: string) => statements.filter((text) => text.trimStart().startsWith(prefix)).length;

  beforeAll(async () => {
    const scratch = engine === 'postgres' ? await createScratchDatabase() : null;
    drop = scratch?.drop;
    db = await openRelationalStore({ databaseUrl: scratch?.url });
    await migrate(db);
    cache = createMemoryCache();
    organizationId = (await db.query<{ id: string }>(`INSERT INTO organizations (name) VALUES ('reports test') RETURNING id`)).rows[0]!.id;
    // A webhook subscription to finished commands: each recorded result writes one outbox row.
    await db.query(`INSERT INTO webhook_subscriptions (organization_id, name, url, signing_secret, event_types)
      VALUES ($1, 'all', 'http://127.0.0.1:9/', 'secret', '{command.finished}')`, [organizationId]);
  });
  afterAll(async () => {
    await cache?.close();
    await db?.close();
    await drop?.();
  });

  /** `n` devices of the organization, each with a command its stream took (`sent`, the output mark set). */
  async function sentCommands(n: number) {
    const local = createLocalDevices();
    const ledger = createOutputLedger();
    const publisher = createPublisher(cache, createLogger('silent'));
    const commands: { deviceId: string; commandId: string }[] = [];
    for (let i = 0; i < n; i++) {
      const deviceId = (await db.query<{ id: string }>(
        `INSERT INTO devices (name, organization_id, status, os_type) VALUES ($1, $2, 'online', 'linux') RETURNING id`, [`d${i}`, organizationId])).rows[0]!.id;
      local.attach(deviceId, () => true);
      const command = await runCommand({ db, local, ledger, publisher, auditor: async () => undefined }, requester, {
        deviceId, script: 'echo hi', timeoutSec: 30, expiresInSec: 60,
      });
      commands.push({ deviceId, commandId: command.id });
    }
    const reports = createReportGroups({ db: counted(db), events: createEventPublisher(), publisher, ledger, finished: () => null });
    return { commands, ledger, reports };
  }
  const statusOf = async (ids: string[]) => (await db.query<{ status: string; exitCode: number | null; outputBytes: number }>(
    `SELECT status, exit_code AS "exitCode", output_bytes AS "outputBytes" FROM commands WHERE id = ANY($1::uuid[]) ORDER BY id`, [ids])).rows;
  const outboxRows = async (ids: string[]) => (await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM notification_outbox WHERE payload->'data'->'command'->>'id' = ANY($1::text[])`, [ids])).rows[0]!.n;

  it('writes many devices\' reports in a few statements, and records each result once', async () => {
    const { commands, ledger, reports } = await sentCommands(DEVICES);
    const ids = commands.map((c) => c.commandId);
    statements.length = 0;
    expect(await Promise.all(commands.map((c) => reports.started.add(c)))).toEqual(Array(DEVICES).fill(true));
    expect(startsWith('update')).toBeLessThan(DEVICES / 2);
    // Output takes the group through the ledger's fast path, as the delivery passes it.
    const outputs = await Promise.all(commands.map((c) => appendOutput(db, ledger, c.deviceId, c.commandId,
      [{ seq: 0, stream: 'stdout', data: 'hi\n' }], 1_000, undefined, reports.output.add)));
    expect(outputs.every((o) => o.accepted && o.stored.length === 1)).toBe(true);
    statements.length = 0;
    const result = (c: { deviceId: string; commandId: string }) => reports.result.add({ ...c, status: 'succeeded', exitCode: 0, error: null });
    // Every device reports, the first one twice at once (a resend), and a device reports another's command.
    const [accepted, again, foreign] = await Promise.all([
      Promise.all(commands.map(result)), result(commands[0]!), result({ deviceId: commands[1]!.deviceId, commandId: commands[2]!.commandId }),
    ]);
    expect(accepted).toEqual(Array(DEVICES).fill(true));
    expect(again).toBe(false);
    expect(foreign).toBe(false);
    // One transaction per group (the resend waits for the next): far fewer than one per report.
    expect(startsWith('update')).toBeLessThan(DEVICES / 2);
    expect((await statusOf(ids)).every((row) => row.status === 'succeeded' && row.exitCode === 0 && row.outputBytes === 3)).toBe(true);
    expect(await outboxRows(ids)).toBe(DEVICES);
  });

  it('writes a group the database refuses again report by report: only the refused one fails', async () => {
    const { commands, reports } = await sentCommands(3);
    const [good, bad, other] = commands as [typeof commands[0], typeof commands[0], typeof commands[0]];
    const outcomes = await Promise.allSettled([
      reports.result.add({ ...good, status: 'succeeded', exitCode: 0, error: null }),
      // Beyond an INTEGER column: the whole statement fails, as a constraint would fail it.
      reports.result.add({ ...bad, status: 'failed', exitCode: 2 ** 40, error: null }),
      reports.result.add({ ...other, status: 'failed', exitCode: 3, error: 'boom' }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await outboxRows([good.commandId, bad.commandId, other.commandId])).toBe(2);
    const rows = await db.query<{ id: string; status: string }>(`SELECT id, status FROM commands WHERE id = ANY($1::uuid[])`, [[good.commandId, bad.commandId, other.commandId]]);
    expect(Object.fromEntries(rows.rows.map((row) => [row.id, row.status]))).toEqual({
      [good.commandId]: 'succeeded', [bad.commandId]: 'sent', [other.commandId]: 'failed',
    });
  });

  it('writes the output a result carries with it, in one transaction; a stale ledger gets output-missed and nothing written', async () => {
    const { commands, ledger, reports } = await sentCommands(4);
    const [stale, ...quick] = commands as [typeof commands[0], ...typeof commands];
    const chunks = [{ seq: 0, stream: 'stdout' as const, data: 'hi\n' }];
    // Another writer stored output of `stale` behind this ledger's back: its mark says 0 bytes.
    await appendOutput(db, createOutputLedger(), stale.deviceId, stale.commandId, [{ seq: 0, stream: 'stdout', data: 'other\n' }], 1_000);
    const report = (c: typeof stale) => reports.result.add({ ...c, status: 'succeeded', exitCode: 0, error: null, output: writeFromMark(ledger, c.deviceId, c.commandId, chunks, 1_000)! });
    statements.length = 0;
    const outcomes = await Promise.all([stale, ...quick].map(report));
    expect(outcomes).toEqual(['output-missed', true, true, true]);
    // One group: the output's statement and the results' in one transaction, not one per device.
    expect(startsWith('with') + startsWith('update')).toBeLessThan(quick.length + 1);
    expect(await statusOf(quick.map((c) => c.commandId))).toEqual(quick.map(() => ({ status: 'succeeded', exitCode: 0, outputBytes: 3 })));
    expect((await db.query<{ seq: number; data: string }>('SELECT seq, data FROM command_output WHERE command_id = $1', [quick[0]!.commandId])).rows)
      .toEqual([{ seq: 0, data: 'hi\n' }]);
    // The missed one is untouched: still unfinished, with the other writer's output only.
    expect(await statusOf([stale.commandId])).toEqual([{ status: 'running', exitCode: null, outputBytes: 6 }]);
  });
});
