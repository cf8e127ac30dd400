import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '@ninjait/server/testing';
import {
  authKind, buildInput, createOrgFixture, engineVariants, httpCall, isIdField, MissingSampleError, procedures, unwrap,
  type OrgFixture, type ProcedureInfo, type ZodLike,
} from './support.ts';

/**
 * Generated from the router: every people-facing query and mutation gets a valid input (the
 * security suite's dictionary) with one free-text field at a time replaced by text PostgreSQL
 * cannot store (a NUL, a lone surrogate). The answer may be a result or a typed refusal, never
 * an internal error: a value anyone types must not become a 500 in any procedure, present or future.
 */
const UNSTORABLE = ['a\u0000b', 'x\uD800y'];

/** Top-level plain-string fields (not ids, emails, enums or passwords): what people type freely. */
function freeTextFields(info: ProcedureInfo): string[] {
  return Object.entries(info.shape ?? {}).filter(([field, schema]) => {
    const inner = unwrap(schema as ZodLike);
    return inner._zod.def.type === 'string' && !inner._zod.def.format && !isIdField(field, schema as ZodLike) && !/password|token|secret/i.test(field);
  }).map(([field]) => field);
}

const targets = procedures.filter((info) => authKind(info.path) === 'user' && info.type !== 'subscription' && freeTextFields(info).length > 0);

describe.each(engineVariants())('unstorable text in any field people type ($name)', (engines) => {
  let h: Harness;
  let org: OrgFixture;
  beforeAll(async () => {
    await engines.reset();
    h = await startHarness({ relational: engines.relational, cache: engines.cache, env: { RATE_LIMIT_MAX: '1000000', RATE_LIMIT_READ_MAX: '1000000', ...engines.env } });
    org = await createOrgFixture(h, 'Text');
  }, 120_000);
  afterAll(async () => {
    await h?.stop();
    await engines.reset();
  });

  it('finds free-text fields to try', () => {
    expect(targets.map((info) => info.path)).toEqual(expect.arrayContaining(['tickets.create']));
  });

  it('answers every procedure with a result or a typed refusal, never an internal error', async () => {
    const failures: string[] = [];
    for (const info of targets) {
      let base: Record<string, unknown> | undefined;
      try {
        base = buildInput(info, org);
      } catch (error) {
        if (error instanceof MissingSampleError) continue; // the auth matrix names it
        throw error;
      }
      for (const field of freeTextFields(info)) {
        for (const text of UNSTORABLE) {
          const outcome = await httpCall(h.server.url, info.path, info.type, { ...base, [field]: text }, { kind: 'session', token: org.users.owner.session });
          if (outcome.code === 'INTERNAL_SERVER_ERROR' || /^HTTP_5/.test(outcome.code ?? '')) failures.push(`${info.path}.${field} = ${JSON.stringify(text)}: ${outcome.code}`);
        }
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
