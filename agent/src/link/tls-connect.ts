import { createHash, X509Certificate } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { showPin } from '../config/server-pins.ts';

/** A handshake that has not finished by then is abandoned (the request's own timeout cannot reach it yet). */
const HANDSHAKE_TIMEOUT_MS = 15_000;

/**
 * The SHA-256 of a certificate's SubjectPublicKeyInfo (DER), base64: what HPKP and `--pin` call a
 * pin. From the certificate's DER (`pubkey` is only the bare key for EC certificates, not the SPKI).
 */
export function spkiPin(cert: Pick<PeerCertificate, 'raw'>): string | null {
  if (!cert.raw) return null;
  const spki = new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** The server presented a key this agent has not pinned. */
export class ServerKeyMismatchError extends Error {
  override readonly name = 'ServerKeyMismatchError';
  readonly code = 'ERR_NINJAIT_SERVER_KEY';
  constructor(readonly host: string, readonly presented: string | null, readonly pinned: readonly string[]) {
    super(
      `the server at ${host} presented the key ${presented ? showPin(presented) : '(none)'}, not the one this agent pinned ` +
      `(${pinned.map(showPin).join(', ')}): if the server's key was replaced on purpose, enroll again with a new token; otherwise something is impersonating it`,
    );
  }
}

/** Whom to trust for TLS. */
export interface TlsTrust {
  /**
   * The accepted SPKI pins, read at every connection (announced keys are added while running).
   * Non-empty: a key that matches is trusted whatever signed it, and nothing else is.
   * Empty: the certificate must chain to `ca` (or the system's CAs) and name the host.
   */
  pins(): readonly string[];
  /** PEM CA certificates that replace the system's, for a private CA. */
  ca?: Buffer | undefined;
  /** Told the pin of every connection that passed, e.g. so enrollment can pin it. */
  onVerified?(pin: string): void;
}

type ConnectOptions = { host?: string | null; hostname?: string | null; port?: number | string | null };
/** Node's `createConnection` with a callback: what http(s).request and `ws` accept. */
export type Connector = (options: ConnectOptions, done: (err: Error | null, socket?: Socket) => void) => undefined;

/**
 * Opens TLS connections that are handed over only once the server's key is checked, so not one
 * byte of a request (an enrollment token, a device secret) reaches a server that fails it. A
 * fresh handshake every time (no session resumption): the certificate is always there to check.
 */
export function tlsConnector(trust: TlsTrust): Connector {
  return (options, done) => {
    const host = String(options.hostname ?? options.host ?? 'localhost').replace(/^\[(.*)\]$/, '$1');
    const pins = trust.pins();
    const socket: TLSSocket = connect({
      host,
      port: Number(options.port ?? 443),
      servername: isIP(host) ? undefined : host,
      ca: trust.ca,
      minVersion: 'TLSv1.2',
      // With pins, the pin is the whole trust decision (a self-signed key is fine if it is the pinned one).
      rejectUnauthorized: pins.length === 0,
    });
    let settled = false;
    // Stays attached: once handed over, the request's own error handling takes over and this is a no-op.
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      socket.setTimeout(0);
      if (err) {
        socket.destroy();
        done(err);
      } else done(null, socket);
    };
    socket.on('error', settle);
    socket.setTimeout(HANDSHAKE_TIMEOUT_MS, () => settle(Object.assign(new Error(`TLS handshake with ${host} timed out`), { code: 'ETIMEDOUT' })));
    socket.once('secureConnect', () => {
      const pin = spkiPin(socket.getPeerCertificate());
      if (pins.length > 0 && (!pin || !pins.includes(pin))) return settle(new ServerKeyMismatchError(host, pin, pins));
      if (pin) trust.onVerified?.(pin);
      settle(null);
    });
    return undefined;
  };
}
