import { describe, expect, it } from 'vitest';
import { describeConnectionError, hasCause, NotNinjaitServerError } from './describe-error.ts';
import { ServerKeyMismatchError } from './tls-connect.ts';
import { LinkError } from './types.ts';

const socketError = (code: string, message: string, extra: object = {}) => Object.assign(new Error(message), { code, ...extra });
/** The shape the agent sees: our LinkError around tRPC's error around "fetch failed" around the real one. */
const wrapped = (inner: unknown) => new LinkError('TRANSIENT', 'fetch failed', { cause: new Error('fetch failed', { cause: inner }) });

describe('describeConnectionError', () => {
  it('names the innermost cause, not "fetch failed"', () => {
    expect(describeConnectionError(wrapped(socketError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.5:3000', { address: '10.0.0.5', port: 3000 }))))
      .toBe('connection refused (ECONNREFUSED 10.0.0.5:3000): nothing listens there; is the server running and the port right?');
    expect(describeConnectionError(wrapped(socketError('ENOTFOUND', 'getaddrinfo ENOTFOUND rmm.example.invalid'))))
      .toBe('DNS lookup failed (ENOTFOUND: getaddrinfo ENOTFOUND rmm.example.invalid): check the host name');
    expect(describeConnectionError(wrapped(socketError('CERT_HAS_EXPIRED', 'certificate has expired')))).toMatch(/^the server's TLS certificate is not trusted \(CERT_HAS_EXPIRED.*--ca-file.*--pin sha256/);
    expect(describeConnectionError(wrapped(socketError('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number')))).toMatch(/does the server speak https/);
  });

  it('prefers what the agent itself found out: a key that is not pinned, a server that is not NinjaIT', () => {
    const mismatch = new ServerKeyMismatchError('rmm.example.com', 'B'.repeat(43) + '=', ['A'.repeat(43) + '=']);
    expect(describeConnectionError(wrapped(mismatch))).toBe(mismatch.message);
    expect(mismatch.message).toContain(`presented the key sha256/${'B'.repeat(43)}=, not the one this agent pinned (sha256/${'A'.repeat(43)}=)`);
    const other = new NotNinjaitServerError('https://rmm.example.com/trpc/agent.enroll?batch=1', 200, 'text/html; charset=utf-8');
    expect(hasCause(wrapped(other), NotNinjaitServerError)).toBe(true);
    expect(describeConnectionError(wrapped(other))).toBe(
      'https://rmm.example.com answered https://rmm.example.com/trpc/agent.enroll with HTTP 200 and "text/html", not the NinjaIT API: ' +
      'is this the NinjaIT server\'s base URL (the address of its console)?',
    );
  });

  it('follows a WebSocket error event to its error, and describes a close', () => {
    const event = { type: 'error', error: socketError('ECONNRESET', 'socket hang up') };
    expect(describeConnectionError(new Error('WebSocket closed', { cause: event }))).toBe('socket hang up (ECONNRESET)');
    expect(describeConnectionError(new Error('', { cause: { code: 1008, reason: 'policy' } }))).toBe('the connection was closed (1008: policy)');
  });
});
