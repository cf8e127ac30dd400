import { describe, expect, it } from 'vitest';
import { compileOnce } from './kysely.ts';

describe('compileOnce', () => {
  const AFTER = -1;
  const LIMIT = -2;

  it('returns the typed query as PostgreSQL text with snake_case columns and numbered parameters', () => {
    const text = compileOnce((db) => db.selectFrom('ingestLog').select(['id', 'deviceId']).where('id', '>', AFTER).orderBy('id').limit(LIMIT), [AFTER, LIMIT]);
    expect(text).toBe('select "id", "device_id" from "ingest_log" where "id" > $1 order by "id" limit $2');
  });

  it('refuses placeholders given in another order than the query binds them, so no call passes a value to the wrong parameter', () => {
    expect(() => compileOnce((db) => db.selectFrom('ingestLog').select('id').where('id', '>', AFTER).limit(LIMIT), [LIMIT, AFTER]))
      .toThrow(/not in the order given/);
    expect(() => compileOnce((db) => db.selectFrom('ingestLog').select('id').where('id', '>', AFTER).limit(LIMIT), [AFTER]))
      .toThrow(/not in the order given/);
  });
});
