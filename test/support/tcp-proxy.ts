import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * - `forward`: bytes flow both ways.
 * - `blackhole`: sockets stay open but nothing is forwarded either way (a dead route, a
 *   silently dropping firewall); new connections are accepted and held the same way.
 * - `reset`: every socket is destroyed (RST) and new ones are destroyed on arrival.
 */
export type ProxyMode = 'forward' | 'blackhole' | 'reset';

/** Looks at bytes crossing the proxy; returning `hold` stops forwarding that direction of that pair. */
export type ProxyTap = (direction: 'up' | 'down', chunk: Buffer, pair: ProxyPair) => void | 'hold';

export interface ProxyPair {
  id: number;
  client: Socket;
  upstream: Socket | null;
  /** Bytes held back while blackholed or by a tap. */
  held: { up: Buffer[]; down: Buffer[] };
  holding: { up: boolean; down: boolean };
}

export interface TcpProxy {
  port: number;
  url: string;
  mode: ProxyMode;
  setMode(mode: ProxyMode): void;
  /** Upstream ports, tried in order for each new connection (failover, like a TCP load balancer). */
  setTargets(ports: number[]): void;
  /** `first`: always try the targets in order; `round-robin`: start each connection at the next one. */
  balance: 'first' | 'round-robin';
  tap: ProxyTap | null;
  readonly pairs: ReadonlySet<ProxyPair>;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1:<free port> in front of `targets`, under the test's control. */
export async function startTcpProxy(targets: number[]): Promise<TcpProxy> {
  let ports = [...targets];
  const pairs = new Set<ProxyPair>();
  let nextId = 1;
  let accepted = 0;

  const destroy = (pair: ProxyPair) => {
    pair.client.resetAndDestroy();
    pair.upstream?.resetAndDestroy();
    pairs.delete(pair);
  };

  const connectUpstream = (pair: ProxyPair, candidates: number[]) => {
    const [port, ...rest] = candidates;
    if (port === undefined) return destroy(pair);
    const upstream = createConnection({ host: '127.0.0.1', port });
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      pair.upstream = upstream;
      flush(pair);
    });
    upstream.on('error', () => {
      if (!connected) connectUpstream(pair, rest);
      else destroy(pair);
    });
    upstream.on('close', () => {
      if (connected) destroy(pair);
    });
    upstream.on('data', (chunk: Buffer) => relay(pair, 'down', chunk));
  };

  const relay = (pair: ProxyPair, direction: 'up' | 'down', chunk: Buffer) => {
    if (proxy.tap?.(direction, chunk, pair) === 'hold') pair.holding[direction] = true;
    pair.held[direction].push(chunk);
    flush(pair);
  };

  const flush = (pair: ProxyPair) => {
    if (proxy.mode !== 'forward') return;
    if (pair.upstream && !pair.holding.up) for (const chunk of pair.held.up.splice(0)) pair.upstream.write(chunk);
    if (!pair.holding.down) for (const chunk of pair.held.down.splice(0)) pair.client.write(chunk);
  };

  const server: Server = createServer((client) => {
    accepted++;
    const pair: ProxyPair = { id: nextId++, client, upstream: null, held: { up: [], down: [] }, holding: { up: false, down: false } };
    if (proxy.mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    pairs.add(pair);
    client.on('data', (chunk: Buffer) => relay(pair, 'up', chunk));
    client.on('error', () => destroy(pair));
    client.on('close', () => destroy(pair));
    const start = proxy.balance === 'round-robin' ? accepted % ports.length : 0;
    connectUpstream(pair, [...ports.slice(start), ...ports.slice(0, start)]);
  });

  const proxy: TcpProxy = {
    port: 0,
    url: '',
    mode: 'forward',
    setMode(mode) {
      proxy.mode = mode;
      if (mode === 'reset') for (const pair of [...pairs]) destroy(pair);
      if (mode === 'forward') for (const pair of pairs) flush(pair);
    },
    setTargets(next) {
      ports = [...next];
    },
    tap: null,
    balance: 'first',
    pairs,
    get accepted() {
      return accepted;
    },
    async close() {
      for (const pair of [...pairs]) destroy(pair);
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  proxy.port = (server.address() as { port: number }).port;
  proxy.url = `http://127.0.0.1:${proxy.port}`;
  return proxy;
}
