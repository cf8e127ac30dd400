import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from './env.ts';

describe('parseEnv', () => {
  it('applies the documented defaults', () => {
    const env = parseEnv({});
    expect(env).toMatchObject({ PORT: 3000, HOST: '127.0.0.1', DATA_DIR: './data', RATE_LIMIT_MAX: 100, RATE_LIMIT_WINDOW_SEC: 900 });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('names the bad variable and its value', () => {
    expect(() => parseEnv({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => parseEnv({ PORT: 'eighty' })).toThrow(/PORT="eighty"/);
    expect(() => parseEnv({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
    // Values that can carry credentials are named but never echoed.
    expect(() => parseEnv({ DATABASE_URL: 'postgres//user:hunter2@db' })).toThrow(/^(?![\s\S]*hunter2)/);
    expect(() => parseEnv({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it('bounds the edge settings and keeps the metrics token out of its own error', () => {
    expect(parseEnv({})).toMatchObject({ WS_AUTH_TIMEOUT_MS: 5_000, WS_UNAUTH_PER_IP_MAX: 200 });
    expect(parseEnv({}).METRICS_TOKEN).toBeUndefined();
    expect(() => parseEnv({ WS_AUTH_TIMEOUT_MS: '0' })).toThrow(/WS_AUTH_TIMEOUT_MS="0"/);
    expect(() => parseEnv({ WS_UNAUTH_PER_IP_MAX: '-1' })).toThrow(/WS_UNAUTH_PER_IP_MAX/);
    expect(() => parseEnv({ METRICS_TOKEN: 'short-secret' })).toThrow(/METRICS_TOKEN=\(value hidden\): at least 16 characters/);
    expect(() => parseEnv({ METRICS_TOKEN: 'short-secret' })).toThrow(/^(?![\s\S]*short-secret)/);
    expect(parseEnv({ METRICS_TOKEN: 'a-long-enough-metrics-token' }).METRICS_TOKEN).toBe('a-long-enough-metrics-token');
  });

  it('runs one server process unless WORKERS asks for more, which need PostgreSQL and Redis', () => {
    expect(parseEnv({}).WORKERS).toBe(1);
    const stores = { DATABASE_URL: 'postgres://db/ninjait', REDIS_URL: 'redis://cache:6379' };
    expect(parseEnv({ ...stores, WORKERS: '4' }).WORKERS).toBe(4);
    expect(() => parseEnv({ WORKERS: '2' })).toThrow(/WORKERS=2 needs DATABASE_URL and REDIS_URL/);
    expect(() => parseEnv({ WORKERS: '2', DATABASE_URL: stores.DATABASE_URL })).toThrow(/WORKERS=2 needs REDIS_URL:/);
    for (const bad of ['0', '65', 'two', '1.5']) expect(() => parseEnv({ ...stores, WORKERS: bad }), bad).toThrow(/WORKERS=/);
  });

  it('takes a BullMQ prefix with one leading {hashtag} (Dragonfly) and refuses braces anywhere else', () => {
    expect(parseEnv({}).QUEUE_PREFIX).toBe('ninjait');
    expect(parseEnv({ QUEUE_PREFIX: '{ninjait}' }).QUEUE_PREFIX).toBe('{ninjait}');
    expect(parseEnv({ QUEUE_PREFIX: '{ninjait}:eu-1' }).QUEUE_PREFIX).toBe('{ninjait}:eu-1');
    expect(parseEnv({ QUEUE_PREFIX: 'test:ab12:q' }).QUEUE_PREFIX).toBe('test:ab12:q');
    for (const bad of ['{}', 'ninjait{x}', '{a}{b}', '{ninjait', 'nin}jait', '{nin jait}', 'a'.repeat(65), `{${'a'.repeat(63)}}`]) {
      expect(() => parseEnv({ QUEUE_PREFIX: bad }), bad).toThrow(/QUEUE_PREFIX=/);
    }
  });

  it('treats empty values as unset', () => {
    expect(parseEnv({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });

  it('reads TLS_NEXT_SPKI_PINS as bare base64 SHA-256 pins, bounded', () => {
    const a = 'A'.repeat(43) + '=';
    const b = 'b+/9'.repeat(10) + 'xyz=';
    expect(parseEnv({ TLS_NEXT_SPKI_PINS: ` ${a}, sha256/${b},${a}` }).TLS_NEXT_SPKI_PINS).toEqual([a, b]);
    expect(parseEnv({}).TLS_NEXT_SPKI_PINS).toBeUndefined();
    expect(() => parseEnv({ TLS_NEXT_SPKI_PINS: 'not-a-pin' })).toThrow(/TLS_NEXT_SPKI_PINS.*not a base64 SHA-256 SPKI pin/);
    expect(() => parseEnv({ TLS_NEXT_SPKI_PINS: Array.from({ length: 9 }, (_, i) => `${'A'.repeat(42)}${i}=`).join(',') })).toThrow(/at most 8/);
  });
});
