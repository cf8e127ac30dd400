import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '@ninjait/server/testing';
import {
  createOrgFixture, idTakingProcedures, invoke, isolationCases, isolationFailures, snapshotOrg, Sockets,
  type Credentials, type IsolationCase, type OrgFixture,
} from './support.ts';

/**
 * Tenant isolation, generated from the router: for every procedure a person calls that takes an
 * id, at any depth of its input (a rule's script check, a scope, a group's filter conditions,
 * values keyed by field id), organization X's owner passes organization Y's real id in that place
 * (the other fields valid and X's own; a list of ids also as X's id then Y's) and must get
 * NOT_FOUND, or an empty answer where the id only filters a list. No answer may carry anything of
 * Y, and Y's rows are byte-for-byte the same afterwards.
 *
 * Skipped by design: agent.* (a device's credentials scope every call to that device; nothing
 * takes another device's id) and the local admin's procedures (admin.*, commands.local.*, ...:
 * the server machine's operator acts across organizations on purpose).
 */

/** Mutations that end the resource they name run after every other baseline call. */
const ENDS_RESOURCE = /\.(close|cancel|revoke|decommission|delete|remove)$/;

describe('tenant isolation matrix', () => {
  let h: Harness;
  let sockets: Sockets;
  let x: OrgFixture;
  let y: OrgFixture;
  let cases: IsolationCase[] = [];
  let construction: string[] = [];
  const candidates = idTakingProcedures();

  beforeAll(async () => {
    h = await startHarness({ relational: 'pglite', cache: 'memory', env: { RATE_LIMIT_MAX: '1000000' } });
    sockets = new Sockets(h.server.url);
    [x, y] = await Promise.all([createOrgFixture(h, 'X'), createOrgFixture(h, 'Y')]);
    ({ cases, construction } = isolationCases(candidates, x, y));
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
    const failures = await isolationFailures(h, sockets, cases, asX, y, (code) => code === 'NOT_FOUND');
    expect(failures).toEqual([]);
    expect(await snapshotOrg(h, y), "Y's rows changed").toEqual(before);
    // Y's shell session (kept in the cache, not in PostgreSQL) still belongs to Y's owner.
    expect((await invoke(h, sockets, { path: 'shell.input', type: 'mutation' }, { sessionId: y.shellSessionId, data: 'true\n' },
      { kind: 'session', token: y.users.owner.session })).ok).toBe(true);
  }, 120_000);

  it("accepts the same inputs with X's own ids (so the NOT_FOUND above is about the organization)", async () => {
    const asX: Credentials = { kind: 'session', token: x.users.owner.session };
    // One call per distinct own input: a nested place (a rule's script check) has an input of its own.
    const baseline = [...new Map(cases.map((c) => [c.ownInput, c])).values()];
    const failures: string[] = [];
    const check = async (c: IsolationCase) => {
      const outcome = await invoke(h, sockets, c.info, c.ownInput, asX);
      if (outcome.code === 'NOT_FOUND' || outcome.code === 'BAD_REQUEST' || outcome.code === 'UNAUTHORIZED' || outcome.code === 'FORBIDDEN') {
        failures.push(`${c.info.path} (${c.field}): ${outcome.code} ${outcome.message.slice(0, 200)}`);
      }
    };
    // Everything else at once; then, one by one, the calls that end the resource they name.
    await Promise.all(baseline.filter((c) => !ENDS_RESOURCE.test(c.info.path)).map(check));
    for (const c of baseline.filter((b) => ENDS_RESOURCE.test(b.info.path))) await check(c);
    expect(failures).toEqual([]);
  }, 90_000);
});
