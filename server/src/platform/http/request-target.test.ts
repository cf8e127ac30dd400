import { describe, expect, it } from 'vitest';
import { decodePathPart, requestTarget } from './request-target.ts';

describe('request targets', () => {
  it('splits origin-form targets into path and query without decoding the path', () => {
    const target = requestTarget({ url: '/downloads/agent/a%20b?token=x%ZZ&y=1' });
    expect(target.path).toBe('/downloads/agent/a%20b');
    expect(target.query.get('y')).toBe('1');
    expect(target.query.get('token')).toBe('x%ZZ');
  });

  it('reads targets that are not origin-form paths as the root, without throwing', () => {
    for (const url of ['*', 'http://evil.example/healthz', '', 'x', undefined]) expect(requestTarget({ url }).path).toBe('/');
    // What `new URL(target, base)` throws on is still a path here.
    expect(requestTarget({ url: '//[' }).path).toBe('//[');
  });

  it('decodes escapes, and answers null for malformed ones instead of throwing', () => {
    expect(decodePathPart('a%20b%C3%A9')).toBe('a bé');
    for (const bad of ['%', '%E0%A4%A', '%uD800', '%ff']) expect(decodePathPart(bad)).toBeNull();
  });
});
