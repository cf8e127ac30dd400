import type { IncomingMessage } from 'node:http';
import { clientIp, isLoopback } from './client-address.ts';
import { hashSecret, secretMatches } from '../secrets.ts';

/**
 * Who may read /metrics and /readyz: they name stores, hosts, queue depths and error rates, which
 * an attacker maps a deployment with. Open on loopback (the local Prometheus, the container's
 * health check); from anywhere else only with `Authorization: Bearer <METRICS_TOKEN>`.
 */
export type OperatorAccess = 'allowed' | 'unauthorized' | 'forbidden';

/** Headers a reverse proxy adds: a loopback peer that sends them is relaying someone from elsewhere. */
const RELAYED = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

export function createOperatorAccess(metricsToken: string | undefined): (req: IncomingMessage) => OperatorAccess {
  const tokenHash = metricsToken ? hashSecret(metricsToken) : null;
  return (req) => {
    const relayed = RELAYED.some((header) => req.headers[header] !== undefined);
    if (isLoopback(clientIp(req)) && !relayed) return 'allowed';
    if (!tokenHash) return 'forbidden';
    const bearer = /^Bearer ([\x21-\x7e]{1,512})$/.exec(req.headers.authorization ?? '')?.[1];
    return bearer && secretMatches(bearer, tokenHash) ? 'allowed' : 'unauthorized';
  };
}
