import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '@ninjait/server/testing';
import {
  authKind, buildInput, createOrgFixture, idTakingProcedures, invoke, isolationCases, isolationFailures, login, MissingSampleError, procedures,
  snapshotOrg, Sockets, type Credentials, type OrgFixture, type ProcedureInfo,
} from './support.ts';

/**
 * Providers and clients, generated from the router like tenant-isolation.test.ts. Provider P (the
 * install's own organization) has clients A and B, each with its own people and data.
 * - A's own owner passes B's ids in every id field: NOT_FOUND (or an empty filtered list), nothing of B.
 * - P's staff (a technician, and an owner, who is admin in clients) switched into A pass B's ids,
 *   and P's own: refused; nothing of B or P comes back. They may enter B, but a session is scoped
 *   to the one organization it is in.
 * - No escalation: P's staff in A are refused (FORBIDDEN) exactly where A's own people of the role
 *   they hold there are; switching into an organization without membership is NOT_FOUND.
 */

/** Calls that end or move the caller's session, or end the resource they name: left out of the role comparison. */
const SKIP_IN_COMPARISON = /^(auth\.logout|auth\.switchOrganization|users\.changePassword)$|\.(close|cancel|revoke|decommission|delete|remove|reject|replace)$/;

describe('cross-organization matrix (providers and clients)', () => {
  let h: Harness;
  let sockets: Sockets;
  let p: OrgFixture;
  let a: OrgFixture;
  let b: OrgFixture;
  /** P's technician and P's owner, each in a session switched into A. */
  let techInA: Credentials;
  let ownerInA: Credentials;
  const candidates = idTakingProcedures();

  const switchedInto = async (email: string, organizationId: string): Promise<Credentials> => {
    const home = await login(h, email);
    const { sessionToken } = await h.http({ authorization: `Bearer ${home}` }).auth.switchOrganization.mutate({ organizationId });
    return { kind: 'session', token: sessionToken! };
  };

  beforeAll(async () => {
    h = await startHarness({ relational: 'pglite', cache: 'memory', env: { RATE_LIMIT_MAX: '1000000' } });
    sockets = new Sockets(h.server.url);
    p = await createOrgFixture(h, 'P');
    const provider = h.http({ authorization: `Bearer ${p.users.owner.session}` });
    const [clientA, clientB] = [await provider.providers.createClient.mutate({ name: 'Client A' }), await provider.providers.createClient.mutate({ name: 'Client B' })];
    [a, b] = await Promise.all([createOrgFixture(h, 'A', clientA), createOrgFixture(h, 'B', clientB)]);
    techInA = await switchedInto(p.users.technician.email, a.orgId);
    ownerInA = await switchedInto(p.users.owner.email, a.orgId);
  }, 180_000);
  afterAll(async () => {
    await sockets?.closeAll();
    await h?.stop();
  });

  it('gives provider staff their provider role in clients, never owner', async () => {
    expect(await h.http({ authorization: `Bearer ${(techInA as { token: string }).token}` }).auth.me.query()).toMatchObject({ organizationId: a.orgId, role: 'technician' });
    expect(await h.http({ authorization: `Bearer ${(ownerInA as { token: string }).token}` }).auth.me.query()).toMatchObject({ organizationId: a.orgId, role: 'admin' });
  });

  it("refuses client B's ids to client A's own owner, switching included", async () => {
    const { cases, construction } = isolationCases(candidates, a, b);
    expect(construction).toEqual([]);
    expect(cases.some((c) => c.info.path === 'auth.switchOrganization')).toBe(true);
    const before = await snapshotOrg(h, b);
    expect(await isolationFailures(h, sockets, cases, { kind: 'session', token: a.users.owner.session }, b, (code) => code === 'NOT_FOUND')).toEqual([]);
    expect(await snapshotOrg(h, b), "B's rows changed").toEqual(before);
  }, 120_000);

  it("refuses B's and P's ids to provider staff working in A: a session reaches only its own organization", async () => {
    const refused = (code: string | null) => code === 'NOT_FOUND' || code === 'FORBIDDEN';
    // They may enter B and P, so switching there is theirs to do; everything else must stay in A.
    const notSwitching = (cases: ReturnType<typeof isolationCases>['cases']) => cases.filter((c) => c.info.path !== 'auth.switchOrganization');
    const [beforeB, beforeP] = [await snapshotOrg(h, b), await snapshotOrg(h, p)];
    const failures: string[] = [];
    for (const credentials of [techInA, ownerInA]) {
      failures.push(...await isolationFailures(h, sockets, notSwitching(isolationCases(candidates, a, b).cases), credentials, b, refused));
      failures.push(...await isolationFailures(h, sockets, notSwitching(isolationCases(candidates, a, p).cases), credentials, p, refused));
    }
    expect(failures).toEqual([]);
    expect(await snapshotOrg(h, b), "B's rows changed").toEqual(beforeB);
    expect(await snapshotOrg(h, p), "P's rows changed").toEqual(beforeP);
  }, 180_000);

  it('refuses provider staff in A exactly where A\'s own people of the same role are refused', async () => {
    const people = procedures.filter((info) => authKind(info.path) === 'user' && !SKIP_IN_COMPARISON.test(info.path));
    const inputOf = (info: ProcedureInfo) => {
      try {
        return buildInput(info, a);
      } catch (error) {
        if (error instanceof MissingSampleError) return undefined;
        throw error;
      }
    };
    const failures: string[] = [];
    const pairs: [string, Credentials, Credentials][] = [
      ['technician', techInA, { kind: 'session', token: a.users.technician.session }],
      ['admin', ownerInA, { kind: 'session', token: a.users.admin.session }],
    ];
    for (const [role, staff, own] of pairs) {
      await Promise.all(people.map(async (info) => {
        const [asStaff, asOwn] = [await invoke(h, sockets, info, inputOf(info), staff), await invoke(h, sockets, info, inputOf(info), own)];
        if ((asStaff.code === 'FORBIDDEN') !== (asOwn.code === 'FORBIDDEN')) {
          failures.push(`${info.path} as provider ${role} in A: ${asStaff.code ?? 'success'}, as A's own ${role}: ${asOwn.code ?? 'success'}`);
        }
      }));
    }
    expect(failures).toEqual([]);
  }, 180_000);
});
