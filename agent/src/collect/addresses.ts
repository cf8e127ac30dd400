import { isIP } from 'node:net';

/** What systeminformation says of one interface, as far as choosing an address goes. */
export interface InterfaceFacts {
  ip4?: string | undefined;
  ip6?: string | undefined;
  internal?: boolean | undefined;
  default?: boolean | undefined;
}

const usable4 = (ip: string | undefined) => Boolean(ip) && isIP(ip!) === 4 && !ip!.startsWith('127.') && !ip!.startsWith('169.254.');
// Link-local IPv6 (fe80::/10) needs a zone to mean anything, and is never how people know a machine.
const usable6 = (ip: string | undefined) => Boolean(ip) && isIP(ip!) === 6 && !/^fe[89ab]/i.test(ip!) && ip !== '::1';

/**
 * The address people know the machine by: the IPv4 (else IPv6) address of the interface holding
 * the default route, else of the first external interface that has one. Undefined when none
 * does (the server then shows the connection's address, labelled as such).
 */
export function primaryAddress(interfaces: readonly InterfaceFacts[]): string | undefined {
  const external = interfaces.filter((nic) => !nic.internal);
  const ordered = [...external.filter((nic) => nic.default), ...external.filter((nic) => !nic.default)];
  for (const nic of ordered) {
    if (usable4(nic.ip4)) return nic.ip4;
    if (usable6(nic.ip6)) return nic.ip6;
  }
  return undefined;
}
