import type { WebSocket } from 'ws';

/**
 * Unauthenticated WebSockets cost a file descriptor and memory each and answer pings forever: a
 * socket gets `authTimeoutMs` to present credentials (device id and secret, a session, the local
 * admin's credential), and one address holds at most `perAddressMax` sockets that have not.
 */
export interface WsAdmissionOptions {
  authTimeoutMs: number;
  perAddressMax: number;
}

/** 1008 "policy violation": the client broke a rule and retrying at once will not help. */
export const WS_CLOSE_UNAUTHENTICATED = 1008;
/** A peer that ignores the close frame is cut off after this long instead of ws's 30 s. */
const CLOSE_GRACE_MS = 1_000;

export interface WsAdmission {
  /** Before the handshake: whether `address` may open one more unauthenticated socket. */
  mayOpen(address: string): boolean;
  /** After the handshake: the socket counts against `address` and its deadline starts. */
  opened(socket: WebSocket, address: string): void;
  /** The socket proved who it is: no deadline, no longer counted. */
  authenticated(socket: WebSocket): void;
  /** Sockets still waiting to authenticate. */
  readonly waiting: number;
}

export function createWsAdmission(options: WsAdmissionOptions): WsAdmission {
  const byAddress = new Map<string, number>();
  const waiting = new Map<WebSocket, { address: string; timer: NodeJS.Timeout }>();

  const release = (socket: WebSocket) => {
    const entry = waiting.get(socket);
    if (!entry) return;
    clearTimeout(entry.timer);
    waiting.delete(socket);
    const left = (byAddress.get(entry.address) ?? 1) - 1;
    if (left > 0) byAddress.set(entry.address, left);
    else byAddress.delete(entry.address);
  };

  return {
    mayOpen: (address) => (byAddress.get(address) ?? 0) < options.perAddressMax,
    opened(socket, address) {
      byAddress.set(address, (byAddress.get(address) ?? 0) + 1);
      // The socket keeps counting until it is really closed: it holds a descriptor until then.
      const timer = setTimeout(() => {
        socket.close(WS_CLOSE_UNAUTHENTICATED, `no credentials within ${options.authTimeoutMs} ms`);
        setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
      }, options.authTimeoutMs);
      timer.unref();
      waiting.set(socket, { address, timer });
      socket.once('close', () => release(socket));
    },
    authenticated: release,
    get waiting() {
      return waiting.size;
    },
  };
}
