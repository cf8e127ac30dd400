import { createTRPCClient, createWSClient, wsLink, type WebSocketClientOptions } from '@trpc/client';
import type { DeviceCredentials } from '@ninjait/shared';
import type { AppRouter } from '@ninjait/server/router';
import type { Logger } from '../log.ts';
import { backoffMs, PROTOCOL_VERSION, PROTOCOL_VERSION_PARAM } from '@ninjait/shared';
import { classify, trpcCode } from './classify.ts';
import { describeConnectionError, hasCause } from './describe-error.ts';
import { observingWebSocket } from './observing-ws.ts';
import { ServerKeyMismatchError } from './tls-connect.ts';
import { CredentialRefusal } from './refusal.ts';
import type { ServerTransport } from './server-transport.ts';
import { LinkError, type AgentLink } from './types.ts';
import { trpcWsUrl } from './ws-url.ts';
import { maskOption } from './ws-mask.ts';

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
  /** Where credential refusals are told and paced; one of the link's own otherwise. */
  refusal?: CredentialRefusal;
  /** TLS for wss:// (the pinned connector); `ws`'s defaults otherwise. */
  transport?: Pick<ServerTransport, 'ws'>;
}

/**
 * Opens the device's single WebSocket to the server. Credentials go in `connectionParams`
 * (the server authenticates once per connection); tRPC reconnects on its own, with our
 * jittered backoff, paced by the refusal's backoff once the server has refused the credentials.
 */
export function connectLink(opts: ConnectLinkOptions): AgentLink {
  const { log } = opts;
  const maxDelay = opts.maxRetryDelayMs ?? 30_000;
  const refusal = opts.refusal ?? new CredentialRefusal({ log });
  let connected = false;
  const listeners = new Set<() => void>();
  const frameListeners = new Set<(frame: Buffer) => void>();

  // The server refuses bad credentials with an `id: null` error and closes the socket (or with
  // 401 before the upgrade), which tRPC surfaces only as "WebSocket closed"; the raw socket says why.
  const onRejected = (code: string, message: string) => {
    if (code === 'UNAUTHORIZED' || code === 'FORBIDDEN') refusal.refused(`${code}: ${message}`);
    else if (code === 'PRECONDITION_FAILED') log.error({ code, reason: message }, 'the server does not speak this agent\'s protocol; retrying with backoff');
    else log.warn({ code, reason: message }, 'server rejected the connection');
  };

  const url = trpcWsUrl(opts.server);
  const wsClient = createWSClient({
    url,
    // Zero masks where no intermediary can read the frames (wss://, loopback): see ws-mask.ts.
    WebSocket: observingWebSocket(onRejected, { ...opts.transport?.ws, ...maskOption(url) }, (frame) => {
      for (const l of frameListeners) l(frame);
    }) as unknown as WebSocketClientOptions['WebSocket'],
    // The protocol version lets the server refuse, in words, an agent it does not speak to.
    connectionParams: { deviceId: opts.credentials.deviceId, deviceSecret: opts.credentials.deviceSecret, [PROTOCOL_VERSION_PARAM]: String(PROTOCOL_VERSION) },
    keepAlive: { enabled: true, intervalMs: opts.keepAliveIntervalMs ?? 15_000, pongTimeoutMs: opts.pongTimeoutMs ?? 5_000 },
    retryDelayMs: (attempt) =>
      refusal.active
        ? Math.max(1_000, refusal.waitMs())
        : backoffMs(attempt, { baseMs: 1_000, maxMs: maxDelay }),
  });
  let outageLogged = false;
  let keyMismatchLogged = false;
  const sub = wsClient.connectionState.subscribe({
    next(state) {
      if (state.state === 'pending') {
        if (connected) return;
        connected = true;
        outageLogged = false;
        keyMismatchLogged = false;
        log.info({ server: opts.server }, 'connected to server');
        for (const l of listeners) l();
        return;
      }
      // The cause chain says why (a refused connection, a key that is not the pinned one), not just "closed".
      const err = state.error ? describeConnectionError(state.error) : undefined;
      if (state.error && hasCause(state.error, ServerKeyMismatchError)) {
        // Not an outage but a trust failure: said as such, once until a pinned key is seen again.
        connected = false;
        if (!keyMismatchLogged) log.error({ server: opts.server, err }, 'not connecting: the server presented a key this agent has not pinned');
        keyMismatchLogged = outageLogged = true;
      } else if (refusal.active) {
        // Told already, once per backoff step: a refused device's socket comes and goes.
        connected = false;
        log.debug({ err }, 'connection closed while the credentials are refused');
      } else if (connected) {
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
      refusal.accepted();
      unavailableStreak = 0;
      return out;
    } catch (err) {
      const e = classify(err, signal);
      if (e.code === 'UNAUTHORIZED') refusal.refused(e.message);
      // The server checks credentials once per socket; if it could not check them (its database
      // was down) every call on this socket keeps failing, so open a new one to be checked again.
      if (trpcCode(err) === 'SERVICE_UNAVAILABLE' && ++unavailableStreak >= UNAVAILABLE_RECONNECT_AFTER) {
        unavailableStreak = 0;
        log.warn('server keeps answering "unavailable" on this connection; reconnecting');
        wsClient.connection?.ws.close();
      }
      // A call lost with the socket right after a credentials refusal failed for that reason.
      if (refusal.active && e.code === 'TRANSIENT') throw new LinkError('UNAUTHORIZED', e.message, { cause: err });
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
    onFrame(listener) {
      frameListeners.add(listener);
      return () => frameListeners.delete(listener);
    },
    sendFrame(frame) {
      const ws = wsClient.connection?.ws;
      if (ws?.readyState !== 1) return false;
      ws.send(frame);
      return true;
    },
    heartbeat: (input, signal) => call(() => trpc.agent.heartbeat.mutate(input, { signal }), signal),
    push: (input, signal) => call(() => trpc.agent.push.mutate(input, { signal }), signal),
    async close() {
      sub.unsubscribe();
      listeners.clear();
      frameListeners.clear();
      await wsClient.close();
    },
  };
}
