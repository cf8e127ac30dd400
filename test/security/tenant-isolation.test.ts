import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../../server/src/testing/harness.ts';
import {
  authKind, buildInput, createOrgFixture, identifying, idKind, idValue, invoke, isIdField, MissingSampleError, procedures,
  snapshotOrg, Sockets, type Credentials, type OrgFixture, type Outcome, type ProcedureInfo,
} from './support.ts';

/**
 * Tenant isolation, generated from the router: for every procedure a person calls that takes an
 * id, organization X's owner passes organization Y's real id in that field (the other fields valid
 * and X's own) and must get NOT_FOUND, or an empty answer where the id only filters a list. No
 * answer may carry anything of Y, and Y's rows are byte-for-byte the same afterwards.
 *
 * Skipped by design: agent.* (a device's credentials scope every call to that device; nothing
 * takes another device's id) and the local admin's procedures (admin.*, commands.local.*, ...:
 * the server machine's operator acts across organizations on purpose).
 */

/** Fields whose foreign id filters a list: the answer is a success that holds nothing of Y. */
const FILTERS: Record<string, string[]> = {
  'commands.list': ['bulkJobId'],
  'audit.list': ['userId', 'resourceId'],
  'live.devices': ['deviceId'],
  'devices.list': ['deviceIds'],
};

/** Mutations that end the resource they name run after every other baseline call. */
const ENDS_RESOURCE = /\.(close|cancel|revoke|decommission|delete|remove)$/;

interface Case { info: ProcedureInfo; field: string; input: unknown }

describe('tenant isolation matrix', () => {
  let h: Harness;
  let sockets: Sockets;
  let x: OrgFixture;
  let y: OrgFixture;
  const cases: Case[] = [];
  const construction: string[] = [];
  const candidates = procedures.filter((info) => authKind(info.path) === 'user' && info.shape && Object.entries(info.shape).some(([field, schema]) => isIdField(field, schema)));

  beforeAll(async () => {
    h = await startHarness({ relational: 'pglite', cache: 'memory', env: { RATE_LIMIT_MAX: '1000000' } });
    sockets = new Sockets(h.server.url);
    [x, y] = await Promise.all([createOrgFixture(h, 'X'), createOrgFixture(h, 'Y')]);
    for (const info of candidates) {
      try {
        const own = buildInput(info, x)!;
        for (const [field, schema] of Object.entries(info.shape!)) {
          if (!isIdField(field, schema)) continue;
          cases.push({ info, field, input: { ...own, [field]: idValue(y, idKind(info.path, field)!) } });
        }
      } catch (error) {
        if (!(error instanceof MissingSampleError)) throw error;
        construction.push(error.message);
      }
    }
  }, 120_000);
  afterAll(async () => {
    await sockets?.closeAll();
    await h?.stop();
  });

  it('finds the procedures that take ids', () => {
    expect(candidates.map((c) => c.path)).toEqual(expect.arrayContaining(['devices.get', 'tickets.get', 'tickets.assign', 'commands.cancel', 'shell.input', 'jobs.status', 'metrics.series']));
  });

  it('can build a valid input for every procedure that takes an id (add dictionary entries otherwise)', () => {
    expect(construction, 'add the missing entries to SAMPLE_VALUES / ID_FIELDS in test/security/support.ts').toEqual([]);
  });

  it("refuses organization Y's ids to organization X's owner, returns and changes nothing of Y", async () => {
    const asX: Credentials = { kind: 'session', token: x.users.owner.session };
    const before = await snapshotOrg(h, y);
    const failures: string[] = [];
    const yStrings = identifying(y);
    const check = (c: Case, outcome: Outcome) => {
      const label = `${c.info.path} with Y's ${c.field}`;
      const filterOnly = FILTERS[c.info.path]?.includes(c.field);
      if (filterOnly ? !outcome.ok : outcome.code !== 'NOT_FOUND') {
        failures.push(`${label}: expected ${filterOnly ? 'an empty success' : 'NOT_FOUND'}, got ${outcome.code ?? 'success'} ${outcome.message.slice(0, 200)}`);
      }
      const injected = JSON.stringify((c.input as Record<string, unknown>)[c.field]);
      const leaked = yStrings.filter((s) => !injected.includes(s) && outcome.text.includes(s));
      if (leaked.length > 0) failures.push(`${label}: the answer carries Y's ${leaked.join(', ')}`);
    };
    // Independent calls: run them a few at a time.
    for (let i = 0; i < cases.length; i += 8) {
      const batch = cases.slice(i, i + 8);
      const outcomes = await Promise.all(batch.map((c) => invoke(h, sockets, c.info, c.input, asX)));
      batch.forEach((c, j) => check(c, outcomes[j]!));
    }
    expect(failures).toEqual([]);
    expect(await snapshotOrg(h, y), "Y's rows changed").toEqual(before);
    // Y's shell session (kept in the cache, not in PostgreSQL) still belongs to Y's owner.
    expect((await invoke(h, sockets, { path: 'shell.input', type: 'mutation' }, { sessionId: y.shellSessionId, data: 'true\n' },
      { kind: 'session', token: y.users.owner.session })).ok).toBe(true);
  }, 120_000);

  it("accepts the same inputs with X's own ids (so the NOT_FOUND above is about the organization)", async () => {
    const asX: Credentials = { kind: 'session', token: x.users.owner.session };
    const baseline = [...new Map(cases.map((c) => [c.info.path, c.info])).values()];
    const failures: string[] = [];
    const check = async (info: ProcedureInfo) => {
      const outcome = await invoke(h, sockets, info, buildInput(info, x), asX);
      if (outcome.code === 'NOT_FOUND' || outcome.code === 'BAD_REQUEST' || outcome.code === 'UNAUTHORIZED' || outcome.code === 'FORBIDDEN') {
        failures.push(`${info.path}: ${outcome.code} ${outcome.message.slice(0, 200)}`);
      }
    };
    // Everything else at once; then, one by one, the calls that end the resource they name.
    await Promise.all(baseline.filter((info) => !ENDS_RESOURCE.test(info.path)).map(check));
    for (const info of baseline.filter((i) => ENDS_RESOURCE.test(i.path))) await check(info);
    expect(failures).toEqual([]);
  }, 90_000);
});
