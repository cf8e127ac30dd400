import { createTRPCClient, createWSClient, wsLink, type WebSocketClientOptions } from '@trpc/client';
import type { DeviceCredentials } from '@ninjait/shared';
import type { AppRouter } from '@ninjait/server/router';
import type { Logger } from '../log.ts';
import { backoffMs } from '../util/backoff.ts';
import { classify, trpcCode } from './classify.ts';
import { observingWebSocket } from './observing-ws.ts';
import { LinkError, type AgentLink } from './types.ts';
import { trpcWsUrl } from './ws-url.ts';

/** Consecutive SERVICE_UNAVAILABLE answers after which the socket is replaced. */
const UNAVAILABLE_RECONNECT_AFTER = 3;

export interface ConnectLinkOptions {
  server: string;
  credentials: DeviceCredentials;
  log: Logger;
  /** Ping period; a dead peer is noticed within `keepAliveIntervalMs + pongTimeoutMs`. */
  keepAliveIntervalMs?: number;
  pongTimeoutMs?: number;
  /** Reconnect backoff ceiling. */
  maxRetryDelayMs?: number;
  /** Reconnect period once the server has refused the device's credentials. */
  unauthorizedRetryDelayMs?: number;
}

/**
 * Opens the device's single WebSocket to the server. Credentials go in `connectionParams`
 * (the server authenticates once per connection); tRPC reconnects on its own, with our
 * jittered backoff, slowed right down once the server has refused the credentials.
 */
export function connectLink(opts: ConnectLinkOptions): AgentLink {
  const { log } = opts;
  const maxDelay = opts.maxRetryDelayMs ?? 30_000;
  const unauthorizedDelay = opts.unauthorizedRetryDelayMs ?? 5 * 60_000;
  let unauthorized = false;
  let connected = false;
  const listeners = new Set<() => void>();

  // The server refuses bad credentials with an `id: null` error and closes the socket, which
  // tRPC surfaces only as "WebSocket closed"; watching the raw frames recovers the reason.
  const onRejected = (code: string, message: string) => {
    if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN') {
      if (!unauthorized) log.error({ code, reason: message }, 'server refused this device\'s credentials (decommissioned or wrong secret); run "ninjait-agent enroll" again. Retrying slowly.');
      unauthorized = true;
    } else {
      log.warn({ code, reason: message }, 'server rejected the connection');
    }
  };

  const wsClient = createWSClient({
    url: trpcWsUrl(opts.server),
    WebSocket: observingWebSocket(onRejected) as unknown as WebSocketClientOptions['WebSocket'],
    connectionParams: { deviceId: opts.credentials.deviceId, deviceSecret: opts.credentials.deviceSecret },
    keepAlive: { enabled: true, intervalMs: opts.keepAliveIntervalMs ?? 15_000, pongTimeoutMs: opts.pongTimeoutMs ?? 5_000 },
    retryDelayMs: (attempt) =>
      unauthorized
        ? backoffMs(0, { baseMs: unauthorizedDelay, maxMs: unauthorizedDelay })
        : backoffMs(attempt, { baseMs: 1_000, maxMs: maxDelay }),
  });
  let outageLogged = false;
  const sub = wsClient.connectionState.subscribe({
    next(state) {
      if (state.state === 'pending') {
        if (connected) return;
        connected = true;
        outageLogged = false;
        log.info({ server: opts.server }, 'connected to server');
        for (const l of listeners) l();
        return;
      }
      const err = state.error?.message;
      if (connected) {
        connected = false;
        outageLogged = true;
        log.warn({ err }, 'disconnected from server; reconnecting');
      } else if (state.error && !outageLogged) {
        // Once per outage: every retry would flood the log during a long one.
        outageLogged = true;
        log.warn({ server: opts.server, err }, 'cannot reach the server; retrying with backoff');
      } else if (state.error) {
        log.debug({ err }, 'reconnect attempt failed');
      }
    },
  });
  const trpc = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });

  let unavailableStreak = 0;
  const call = async <T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> => {
    try {
      const out = await fn();
      unauthorized = false;
      unavailableStreak = 0;
      return out;
    } catch (err) {
      const e = classify(err, signal);
      if (e.code === 'UNAUTHORIZED') unauthorized = true;
      // The server checks credentials once per socket; if it could not check them (its database
      // was down) every call on this socket keeps failing, so open a new one to be checked again.
      if (trpcCode(err) === 'SERVICE_UNAVAILABLE' && ++unavailableStreak >= UNAVAILABLE_RECONNECT_AFTER) {
        unavailableStreak = 0;
        log.warn('server keeps answering "unavailable" on this connection; reconnecting');
        wsClient.connection?.ws.close();
      }
      // A call lost with the socket right after a credentials refusal failed for that reason.
      if (unauthorized && e.code === 'TRANSIENT') throw new LinkError('UNAUTHORIZED', e.message, { cause: err });
      throw e;
    }
  };

  return {
    trpc,
    get connected() {
      return connected;
    },
    onConnected(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    heartbeat: (input, signal) => call(() => trpc.agent.heartbeat.mutate(input, { signal }), signal),
    push: (input, signal) => call(() => trpc.agent.push.mutate(input, { signal }), signal),
    async close() {
      sub.unsubscribe();
      listeners.clear();
      await wsClient.close();
    },
  };
}
