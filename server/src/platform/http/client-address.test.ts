import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { addressKey, clientIp, isLoopback } from './client-address.ts';

describe('client addresses', () => {
  it('writes IPv4-mapped IPv6 peers as IPv4', () => {
    const req = (remoteAddress: string | undefined) => ({ socket: { remoteAddress } }) as unknown as IncomingMessage;
    expect(clientIp(req('::ffff:203.0.113.9'))).toBe('203.0.113.9');
    expect(clientIp(req('2001:db8::1'))).toBe('2001:db8::1');
    expect(clientIp(req(undefined))).toBeNull();
  });

  it('knows loopback when it sees it', () => {
    expect(['127.0.0.1', '127.9.9.9', '::1'].map(isLoopback)).toEqual([true, true, true]);
    expect(['10.0.0.1', '::2', null, '128.0.0.1'].map(isLoopback)).toEqual([false, false, false, false]);
  });

  it('counts IPv4 addresses one by one and IPv6 addresses by their /64', () => {
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
    const network = addressKey('2001:db8:1:2::1');
    expect(network).toBe('2001:db8:1:2::/64');
    // Every spelling of an address in the same /64 lands on the same key.
    for (const ip of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:0:0:0:7', '2001:db8:1:2::7:1.2.3.4']) expect(addressKey(ip)).toBe(network);
    expect(addressKey('2001:db8:1:3::1')).not.toBe(network);
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey(null)).toBe('unknown');
  });
});
