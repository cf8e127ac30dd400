import { isIPv6 } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** The peer's address as the socket saw it, IPv4-mapped IPv6 written as plain IPv4. */
export function clientIp(req: IncomingMessage): string | null {
  const address = req.socket.remoteAddress ?? null;
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}

export const isLoopback = (ip: string | null): boolean => ip === '::1' || (ip?.startsWith('127.') ?? false);

/** IPv6 hextets in a /64: one subscriber's whole allocation, which an attacker can rotate through freely. */
const IPV6_NETWORK_HEXTETS = 4;

/**
 * The key per-address limits count under: an IPv4 address as is, an IPv6 address by its /64 (one
 * host can use billions of addresses inside its network, so counting them one by one limits nothing).
 */
export function addressKey(ip: string | null): string {
  if (!ip) return 'unknown';
  if (!isIPv6(ip)) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::', 2);
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // `::` stands for as many zero hextets as make eight (an embedded IPv4 tail counts as two).
  const rightLength = right.reduce((n, part) => n + (part.includes('.') ? 2 : 1), 0);
  const full = ip.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - rightLength)).fill('0'), ...right] : left;
  return `${full.slice(0, IPV6_NETWORK_HEXTETS).map((part) => part.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
