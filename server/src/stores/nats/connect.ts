import { connect, type NatsConnection } from '@nats-io/transport-node';
import { probeHealth, type StoreHealth } from '../types.ts';

/** How long a start waits for NATS before it fails (then the server stops with the reason). */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Opens the NATS connection the ingest log and command routing share. It reconnects for ever:
 * while NATS is away appends fail (agents keep their outboxes and retry) and drainers wait.
 */
export async function openNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: url, name, timeout: CONNECT_TIMEOUT_MS,
    maxReconnectAttempts: -1, reconnectTimeWait: 500, waitOnFirstConnect: false,
    // Otherwise every request (each ingest publish is one) captures two stack traces up front, in
    // case it fails: a visible share of the ingest path's CPU, for a stack that names only NATS internals.
    noAsyncTraces: true,
  });
}

/** Up when the connection is open and the server answers a round trip. */
export function natsHealth(nc: NatsConnection): Promise<StoreHealth> {
  return probeHealth('nats', async () => {
    if (nc.isClosed()) throw new Error('the NATS connection is closed');
    await nc.flush();
  });
}
