import { isIP } from 'node:net';

/**
 * The `ws` client option that masks this agent's frames with zeros, or nothing (random masks)
 * when the connection needs them.
 *
 * RFC 6455 makes clients mask every frame so that bytes a page chooses cannot be read by a
 * proxy or cache between browser and server as a request of their own (cache poisoning). The
 * mask hides nothing from anyone else. Where no such intermediary can read the bytes it is pure
 * cost: `ws` copies each frame into a fresh buffer to XOR it, a third of the agent's CPU in a
 * 1 GiB download (1 MiB binary frames). A zero mask is still a mask on the wire (the server
 * unmasks as always), and `ws` then sends the frame's own bytes. It is used only:
 * - over wss://, where TLS encrypts every byte: nothing on the path can read them at all;
 * - to a loopback address, where nothing sits between agent and server.
 * Plain ws:// to any other host keeps random masks.
 */
export function maskOption(wsUrl: string): { generateMask?: (mask: Buffer) => void } {
  const url = new URL(wsUrl);
  return url.protocol === 'wss:' || isLoopback(url.hostname) ? { generateMask: zeroMask } : {};
}

function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/** 127.0.0.0/8, ::1 (also as IPv4-mapped) and `localhost`, as the URL spells them. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.startsWith('[') ? hostname.slice(1, -1).toLowerCase() : hostname.toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host) || /^::ffff:7f[0-9a-f]{2}:/.test(host);
  return false;
}
