import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** The server could not bind its address; the message names the setting to change. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

/** Turns a bind failure into advice that names `PORT` or `HOST`. */
export function listenError(error: unknown, port: number, host: string): ListenError {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EADDRINUSE':
      return new ListenError(`PORT ${port} is already in use on ${host} (another NinjaIT server, or another program, listens there): stop it, or set PORT to a free port`, { cause: error });
    case 'EACCES':
      return new ListenError(`PORT ${port} on ${host} needs privileges this account does not have (ports below 1024): set PORT to 1024 or above`, { cause: error });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError(`HOST ${host} is not an address of this machine: set HOST to one of its addresses (0.0.0.0 for all of them)`, { cause: error });
    default:
      return new ListenError(`Cannot listen on ${host}:${port} (PORT, HOST): ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Connections that arrive while the server starts wait, unread, for the HTTP server (the embedded
 * engines take seconds to open); past this many, more are closed at once, so a flood of them
 * during start-up costs nothing but the connections themselves.
 */
export const MAX_WAITING_CONNECTIONS = 256;

/**
 * An address bound before the server opens anything else. `serve` and `start` claim it first,
 * so a busy port stops them before DATA_DIR or a database is touched; the HTTP server then
 * takes the same socket over (no window for another process to take the port meanwhile).
 */
export interface ClaimedPort {
  /** The bound port (the one chosen when PORT is 0). */
  readonly port: number;
  readonly host: string;
  /** The bound socket and the connections waiting on it, for the HTTP server; taking them makes `release` a no-op. */
  take(): { listener: Server; waiting: Socket[] };
  /** Frees the port (and drops waiting connections) when start-up failed before the HTTP server took it. */
  release(): Promise<void>;
}

function bind(server: Server, listenOn: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    listenOn();
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Binds `host:port` now; throws a `ListenError` naming PORT or HOST when it cannot. */
export async function claimPort(port: number, host: string): Promise<ClaimedPort> {
  const waiting: Socket[] = [];
  // Paused: nothing is read until the HTTP server has them, so no request is lost or half-parsed.
  const listener = createServer({ pauseOnConnect: true }, (connection) => {
    if (waiting.length >= MAX_WAITING_CONNECTIONS) connection.destroy();
    else waiting.push(connection);
  });
  try {
    await bind(listener, () => listener.listen(port, host));
  } catch (error) {
    throw listenError(error, port, host);
  }
  let taken = false;
  return {
    port: (listener.address() as AddressInfo).port,
    host,
    take() {
      taken = true;
      return { listener, waiting: waiting.splice(0) };
    },
    async release() {
      if (taken) return;
      taken = true;
      for (const connection of waiting.splice(0)) connection.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}

/**
 * Starts `server` on the claimed socket (and serves the connections that waited for it), or binds
 * `port` on `host` itself; bind failures become `ListenError`s.
 */
export async function listenOn(server: Server, address: ClaimedPort | { port: number; host: string }): Promise<void> {
  if (!('take' in address)) {
    await bind(server, () => server.listen(address.port, address.host)).catch((error: unknown) => {
      throw listenError(error, address.port, address.host);
    });
    return;
  }
  const { listener, waiting } = address.take();
  await bind(server, () => server.listen(listener)).catch((error: unknown) => {
    for (const connection of waiting) connection.destroy();
    listener.close();
    throw listenError(error, address.port, address.host);
  });
  for (const connection of waiting) {
    server.emit('connection', connection);
    connection.resume();
  }
}
