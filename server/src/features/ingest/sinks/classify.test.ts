import { createConnection } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { readPgliteSeed } from '../../../stores/relational/pglite/seed.ts';
import { isRetryableWriteError } from './classify.ts';

/** Errors as the drivers raise them, each from the real driver where this machine can produce it. */
describe('write failure classification', () => {
  it('takes a value PostgreSQL refuses for the row, and a connection PostgreSQL cannot take for the store', async () => {
    // From the build's seed when there is one: initdb alone took most of this test's time.
    const seed = await readPgliteSeed();
    const db = await PGlite.create(seed ? { loadDataDir: seed } : {});
    const refused = await db.query("SELECT 'x'::int").catch((error: unknown) => error);
    await db.exec('CREATE TABLE narrow (name varchar(3))');
    const tooLong = await db.query("INSERT INTO narrow VALUES ('abcdef')").catch((error: unknown) => error);
    await db.close();
    const closed = await db.query('SELECT 1').catch((error: unknown) => error);
    expect(isRetryableWriteError(refused)).toBe(false); // 22P02
    expect(tooLong).toMatchObject({ code: '22001' });
    expect(isRetryableWriteError(tooLong)).toBe(false);
    expect(isRetryableWriteError(closed)).toBe(true); // "PGlite is closed": the store, not the row
    expect(isRetryableWriteError(Object.assign(new Error('terminating connection'), { code: '57P01', severity: 'FATAL' }))).toBe(true);
    expect(isRetryableWriteError(Object.assign(new Error('duplicate key'), { code: '23505', severity: 'ERROR' }))).toBe(false);
  });

  it('retries a socket that was refused or reset, wrapped or not', async () => {
    const refused = await new Promise<Error>((resolve) => createConnection({ host: '127.0.0.1', port: 1 }).on('error', resolve));
    expect(isRetryableWriteError(refused)).toBe(true);
    expect(isRetryableWriteError(new Error('request failed', { cause: refused }))).toBe(true);
    expect(isRetryableWriteError(new DOMException('timed out', 'TimeoutError'))).toBe(true);
  });

  it('reads ClickHouse codes from chdb and the HTTP client alike', () => {
    const chdbParse = Object.assign(new Error("Code: 27. DB::Exception: Cannot parse input: expected ',' before: 'e+308'"), { clickhouseCode: 27 });
    const httpParse = Object.assign(new Error('Cannot parse input'), { code: '27', type: 'CANNOT_PARSE_INPUT_ASSERTION_FAILED' });
    const tooManyParts = Object.assign(new Error('Too many parts'), { code: '252', type: 'TOO_MANY_PARTS' });
    expect(isRetryableWriteError(chdbParse)).toBe(false);
    expect(isRetryableWriteError(httpParse)).toBe(false);
    expect(isRetryableWriteError(new Error('Code: 72. DB::Exception: Unsigned type must not contain \'-\' symbol'))).toBe(false);
    expect(isRetryableWriteError(tooManyParts)).toBe(true);
  });

  it("tells a Redis reply about the command from one about the server's state", () => {
    expect(isRetryableWriteError(new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'))).toBe(false);
    expect(isRetryableWriteError(new ReplyError("OOM command not allowed when used memory > 'maxmemory'."))).toBe(true);
    expect(isRetryableWriteError(new ReplyError('LOADING Redis is loading the dataset in memory'))).toBe(true);
  });

  it('blames the row for our own conversion errors, and retries what it does not know', () => {
    expect(isRetryableWriteError(new RangeError('Invalid time value'))).toBe(false);
    expect(isRetryableWriteError(new TypeError("Cannot read properties of undefined (reading 'cpu')"))).toBe(false);
    expect(isRetryableWriteError(new Error('something new'))).toBe(true);
    expect(isRetryableWriteError('a string')).toBe(true);
  });
});
