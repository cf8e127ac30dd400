import WebSocket from 'ws';
import { createTRPCUntypedClient, createWSClient, wsLink, type WebSocketClientOptions } from '@trpc/client';

/** How a simulated agent talks to the server; two implementations of the same tRPC WebSocket protocol. */
export interface AgentTransport {
  mutation<T>(path: string, input: unknown): Promise<T>;
  query<T>(path: string, input: unknown): Promise<T>;
  /** Starts a subscription; `onData` gets each item. Returns a function that stops it. */
  subscribe(path: string, input: unknown, onData: (data: unknown) => void): () => void;
  /** Resolves when the socket closes for any reason. */
  readonly closed: Promise<void>;
  close(): void;
}

export class CallError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

export interface ConnectOptions {
  url: string;
  params: Record<string, string>;
  localAddress?: string | undefined;
  timeoutMs?: number;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: unknown) => void };
type WireMessage = {
  id: number | string | null;
  result?: { type: 'data' | 'started' | 'stopped'; data?: unknown };
  error?: { message: string; data?: { code?: string } };
  method?: string;
};

/**
 * tRPC's WebSocket JSON-RPC spoken directly on a `ws` socket: `connectionParams` first, then
 * `{id, method, params: {path, input}}`; the server's keep-alive `PING` is answered `PONG`.
 * About half the memory and far less CPU per connection than a full tRPC client (see README),
 * which is what lets one process simulate thousands of agents.
 */
export function connectRaw(options: ConnectOptions): Promise<AgentTransport> {
  const ws = new WebSocket(`${options.url.replace(/^http/, 'ws')}/trpc?connectionParams=1`, {
    perMessageDeflate: false,
    handshakeTimeout: options.timeoutMs ?? 30_000,
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  const pending = new Map<number, Pending>();
  const subscriptions = new Map<number, (data: unknown) => void>();
  let nextId = 1;
  let fatal: Error | null = null;
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));

  const failAll = (error: Error) => {
    fatal ??= error;
    for (const p of pending.values()) p.reject(fatal);
    pending.clear();
  };
  ws.on('close', (code) => failAll(new CallError('CLOSED', `socket closed (${code})`)));
  ws.on('error', (error) => failAll(error));
  ws.on('message', (raw, isBinary) => {
    const text = isBinary ? '' : raw.toString();
    if (text === 'PING') return void ws.send('PONG');
    if (text === 'PONG' || !text) return;
    const msg = JSON.parse(text) as WireMessage;
    if (msg.id === null) {
      // Connection-level refusal (bad credentials): the server closes next.
      return failAll(new CallError(msg.error?.data?.code ?? 'UNKNOWN', msg.error?.message ?? 'refused'));
    }
    const id = Number(msg.id);
    const sub = subscriptions.get(id);
    if (sub) {
      if (msg.result?.type === 'data') sub(msg.result.data);
      return;
    }
    const call = pending.get(id);
    if (!call) return;
    pending.delete(id);
    if (msg.error) call.reject(new CallError(msg.error.data?.code ?? 'UNKNOWN', msg.error.message));
    else call.resolve(msg.result?.data);
  });

  const call = <T>(method: 'query' | 'mutation', path: string, input: unknown) => {
    if (fatal) return Promise.reject(fatal);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      ws.send(JSON.stringify({ id, method, params: { path, input } }));
    });
  };
  const transport: AgentTransport = {
    mutation: (path, input) => call('mutation', path, input),
    query: (path, input) => call('query', path, input),
    subscribe(path, input, onData) {
      const id = nextId++;
      subscriptions.set(id, onData);
      ws.send(JSON.stringify({ id, method: 'subscription', params: { path, input } }));
      return () => {
        subscriptions.delete(id);
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ id, method: 'subscription.stop' }));
      };
    },
    closed,
    close: () => ws.terminate(),
  };

  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.send(JSON.stringify({ method: 'connectionParams', data: options.params }));
      resolve(transport);
    });
    ws.once('error', reject);
  });
}

/** The real `@trpc/client` stack (createWSClient + wsLink), as the agent uses it. */
export async function connectTrpc(options: ConnectOptions): Promise<AgentTransport> {
  let onClosed!: () => void;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  const local = options.localAddress;
  class BoundWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { perMessageDeflate: false, ...(local ? { localAddress: local } : {}) });
    }
  }
  const wsClient = createWSClient({
    url: `${options.url.replace(/^http/, 'ws')}/trpc`,
    WebSocket: BoundWebSocket as unknown as WebSocketClientOptions['WebSocket'],
    connectionParams: options.params,
    // A simulated agent that loses its socket is counted as failed, not silently reconnected.
    retryDelayMs: () => 3_600_000,
    onClose: () => onClosed(),
  });
  const client = createTRPCUntypedClient({ links: [wsLink({ client: wsClient })] });
  await new Promise<void>((resolve, reject) => {
    const sub = wsClient.connectionState.subscribe({
      next(state) {
        if (state.state === 'pending') {
          resolve();
          queueMicrotask(() => sub.unsubscribe());
        } else if (state.state === 'connecting' && state.error) {
          reject(state.error);
        }
      },
    });
  });
  const wrap = <T>(call: Promise<unknown>) =>
    call.catch((error: { data?: { code?: string }; message: string }) => {
      throw new CallError(error.data?.code ?? 'UNKNOWN', error.message);
    }) as Promise<T>;
  return {
    mutation: <T>(path: string, input: unknown) => wrap<T>(client.mutation(path, input)),
    query: <T>(path: string, input: unknown) => wrap<T>(client.query(path, input)),
    subscribe(path, input, onData) {
      const sub = client.subscription(path, input, { onData });
      return () => sub.unsubscribe();
    },
    closed,
    close: () => void wsClient.close(),
  };
}
