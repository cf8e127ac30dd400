import {
  createTRPCClient, createWSClient, getUntypedClient, httpBatchLink, httpLink, splitLink, wsLink, type TRPCClient,
} from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@ninjait/server/router';
import { onSessionChange } from './session.ts';
import { checkSoon, reportReachable, trackedFetch } from './connection.ts';

/** Reconnects quickly after the server comes back, without hammering it while it is gone. */
const WS_RETRY_MAX_MS = 5_000;

/** The server refuses larger HTTP batches (MAX_BATCH_CALLS in server/src/platform/http/server.ts); the link splits them. */
const MAX_BATCH_CALLS = 50;
/** Calls that carry file chunks, each near the size of a whole batch's body limit. */
const UNBATCHED = new Set(['remote.files.uploadChunk', 'remote.files.downloadChunk']);

export type Api = TRPCClient<AppRouter>;
/** Procedure outputs as they arrive over JSON (dates are ISO strings at run time; format.ts accepts both). */
export type Outputs = inferRouterOutputs<AppRouter>;
export type Inputs = inferRouterInputs<AppRouter>;

function wsUrl(): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/trpc`;
}

/**
 * Queries and mutations over HTTP, subscriptions over one WebSocket; both carry the HttpOnly
 * session cookie (the socket's upgrade request is same-origin, which the server requires), and
 * both tell connection.ts whether the server answers.
 */
function createClients() {
  const ws = createWSClient({
    url: wsUrl, lazy: { enabled: true, closeMs: 10_000 },
    retryDelayMs: (attempt) => Math.min(500 * 2 ** attempt, WS_RETRY_MAX_MS),
    onOpen: reportReachable,
    // An idle socket closes on purpose too: the probe tells a server gone from a socket put away.
    onClose: checkSoon,
  });
  const api: Api = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: ws }),
        false: splitLink({
          // A file chunk is a megabyte of base64: batched with the chunks beside it, the request
          // passes the server's body limit (PAYLOAD_TOO_LARGE). Each goes in a request of its own.
          condition: (op) => UNBATCHED.has(op.path),
          true: httpLink({ url: `${location.origin}/trpc`, fetch: (url, init) => trackedFetch(url, { ...init, credentials: 'same-origin' }) }),
          false: httpBatchLink({ url: `${location.origin}/trpc`, maxURLLength: 2_000, maxItems: MAX_BATCH_CALLS, fetch: (url, init) => trackedFetch(url, { ...init, credentials: 'same-origin' }) }),
        }),
      }),
    ],
  });
  return { ws, api, untyped: getUntypedClient(api) };
}

let clients = createClients();

// A new session needs a new socket: the server reads the cookie when the socket connects.
onSessionChange(() => {
  const old = clients;
  clients = createClients();
  void old.ws.close();
});

/** The typed client; always call through this function, the client is replaced on login and logout. */
export function api(): Api {
  return clients.api;
}

/** For procedures other engineers are still adding: called by path, typed by the caller. */
export function untyped() {
  return clients.untyped;
}
