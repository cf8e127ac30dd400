import {
  createTRPCClient, createWSClient, getUntypedClient, httpBatchLink, splitLink, wsLink, type TRPCClient,
} from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { AppRouter } from '@ninjait/server/router';
import { getSessionToken, onSessionChange } from './session.ts';

export type Api = TRPCClient<AppRouter>;
/** Procedure outputs as they arrive over JSON (dates are ISO strings at run time; format.ts accepts both). */
export type Outputs = inferRouterOutputs<AppRouter>;
export type Inputs = inferRouterInputs<AppRouter>;

function wsUrl(): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/trpc`;
}

/** Queries and mutations over HTTP (cookie), subscriptions over one WebSocket (token in connectionParams). */
function createClients() {
  const ws = createWSClient({
    url: wsUrl,
    lazy: { enabled: true, closeMs: 10_000 },
    connectionParams: () => {
      const sessionToken = getSessionToken();
      return sessionToken ? { sessionToken } : {};
    },
  });
  const api: Api = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: ws }),
        false: httpBatchLink({ url: `${location.origin}/trpc`, maxURLLength: 2_000, fetch: (url, init) => fetch(url, { ...init, credentials: 'same-origin' }) }),
      }),
    ],
  });
  return { ws, api, untyped: getUntypedClient(api) };
}

let clients = createClients();

// A new session needs a new socket: the server reads the session when the socket connects.
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
