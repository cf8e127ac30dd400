import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** Scheme, host, port and an optional plain path: safe inside single quotes in sh and PowerShell. */
const URL_SHAPE = /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?:\/[A-Za-z0-9._~/-]*)?$|^https?:\/\/\[[0-9a-fA-F:.]+\](?::\d{1,5})?(?:\/[A-Za-z0-9._~/-]*)?$/;

/** Whether a server URL (without a trailing slash) may go into an install script or line. */
export const isUrlShaped = (url: string) => URL_SHAPE.test(url);

/**
 * Mirrors the agent's `isLoopbackHost` (agent/src/link/server-transport.ts, checked against it
 * in install-offer.test.ts): install lines ask for --insecure exactly where the agent would refuse.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1';
}

/** Plain http:// beyond loopback: the agent enrolls with and reports to it only when told `--insecure`. */
export function needsInsecure(serverUrl: string): boolean {
  const url = new URL(serverUrl);
  return url.protocol === 'http:' && !isLoopbackHost(url.hostname);
}

/** PUBLIC_URL when set; else what the client used to reach us (Host header, checked). */
export function publicServerUrl(env: { PUBLIC_URL?: string | undefined }, req: IncomingMessage): string | null {
  if (env.PUBLIC_URL) return env.PUBLIC_URL.replace(/\/+$/, '');
  const host = req.headers.host ?? '';
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const url = `${encrypted ? 'https' : 'http'}://${host}`;
  return isUrlShaped(url) ? url : null;
}
