import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { AppError } from '../../../platform/errors.ts';

/** Never reachable from a webhook: link-local (cloud metadata lives there), "this network", multicast, reserved. */
const ALWAYS_REFUSED = new BlockList();
ALWAYS_REFUSED.addSubnet('169.254.0.0', 16, 'ipv4');
ALWAYS_REFUSED.addSubnet('0.0.0.0', 8, 'ipv4');
ALWAYS_REFUSED.addSubnet('224.0.0.0', 3, 'ipv4');
ALWAYS_REFUSED.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud's metadata service
ALWAYS_REFUSED.addSubnet('fe80::', 10, 'ipv6');
ALWAYS_REFUSED.addSubnet('ff00::', 8, 'ipv6');
ALWAYS_REFUSED.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6
ALWAYS_REFUSED.addAddress('::', 'ipv6');

/** Reachable only on single-machine installs and tests (WEBHOOK_ALLOW_PRIVATE=1): loopback and private ranges. */
const PRIVATE = new BlockList();
PRIVATE.addSubnet('127.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('10.0.0.0', 8, 'ipv4');
PRIVATE.addSubnet('172.16.0.0', 12, 'ipv4');
PRIVATE.addSubnet('192.168.0.0', 16, 'ipv4');
PRIVATE.addSubnet('100.64.0.0', 10, 'ipv4');
PRIVATE.addAddress('::1', 'ipv6');
PRIVATE.addSubnet('fc00::', 7, 'ipv6');

/** Why an address may not be called, or null when it may. */
export function addressRefusal(address: string, allowPrivate: boolean): string | null {
  const family = isIP(address);
  if (family === 0) return `"${address}" is not an IP address`;
  // An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return addressRefusal(mapped[1]!, allowPrivate);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (ALWAYS_REFUSED.check(address, type)) return `${address} is a link-local, metadata or reserved address`;
  if (!allowPrivate && PRIVATE.check(address, type)) return `${address} is a loopback or private address (set WEBHOOK_ALLOW_PRIVATE=1 on single-machine installs)`;
  return null;
}

/** Checks a channel URL's form: http(s), no credentials in it. */
export function parseChannelUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new AppError('BAD_REQUEST', `"${text.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AppError('BAD_REQUEST', `Only http and https URLs can receive notifications, not ${url.protocol}`);
  if (url.username || url.password) throw new AppError('BAD_REQUEST', 'Put no credentials in the URL');
  return url;
}

/**
 * Resolves a URL's host and returns the one address to connect to, refusing the URL if any
 * address it resolves to is refused (DNS that answers a public and a private address is a
 * rebinding attempt). The caller connects to this address, not to the name again.
 */
export async function checkedAddress(url: URL, allowPrivate: boolean): Promise<{ address: string; family: 4 | 6 }> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true, verbatim: true }).catch(() => {
    throw new AppError('BAD_REQUEST', `Cannot resolve ${host}`);
  });
  if (addresses.length === 0) throw new AppError('BAD_REQUEST', `Cannot resolve ${host}`);
  for (const { address } of addresses) {
    const refusal = addressRefusal(address, allowPrivate);
    if (refusal) throw new AppError('BAD_REQUEST', `Refusing ${url.host}: ${refusal}`);
  }
  const first = addresses[0]!;
  return { address: first.address, family: first.family === 6 ? 6 : 4 };
}
