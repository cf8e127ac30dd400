import WebSocket, { type ClientOptions } from 'ws';

/** `ws` says this when the server answers the upgrade with something other than 101. */
const UNEXPECTED_STATUS = /Unexpected server response: (\d{3})/;
/**
 * A refusal frame is a short error; larger messages (a 1.4 MB file chunk) are not decoded to
 * text here a second time, which cost as much as tRPC's own decoding of them.
 */
const MAX_REFUSAL_BYTES = 64 * 1024;

/**
 * A `ws` WebSocket with `options` (the pinned TLS connector) that reports the server's refusals
 * of the connection before tRPC sees them: an `id: null` error frame, or 401/403 on the upgrade.
 * Binary messages (upload chunk frames, `upload-frames.ts`) go to `onFrame` and never to tRPC,
 * whose JSON decoder throws on them (outside any handler: the process would end).
 */
export function observingWebSocket(onRejected: (code: string, message: string) => void, options: ClientOptions, onFrame: (frame: Buffer) => void = () => undefined) {
  return class ObservingWebSocket extends WebSocket {
    // tRPC listens with addEventListener (and never removes a message listener); its message
    // listeners see text messages only.
    override addEventListener<K extends keyof WebSocket.WebSocketEventMap>(
      type: K,
      listener: ((event: WebSocket.WebSocketEventMap[K]) => void) | { handleEvent(event: WebSocket.WebSocketEventMap[K]): void },
      options?: WebSocket.EventListenerOptions,
    ): void {
      if (type !== 'message' || typeof listener !== 'function') return super.addEventListener(type, listener, options);
      const textOnly = (event: WebSocket.MessageEvent) => {
        if (typeof event.data === 'string') listener.call(this, event as WebSocket.WebSocketEventMap[K]);
      };
      super.addEventListener(type, textOnly as typeof listener, options);
    }

    constructor(address: string | URL, protocols?: string | string[], extra?: ClientOptions) {
      super(address, protocols, { ...options, ...extra });
      this.on('error', (err: Error) => {
        const status = UNEXPECTED_STATUS.exec(err.message)?.[1];
        if (status === '401') onRejected('UNAUTHORIZED', `HTTP ${status} on the WebSocket upgrade`);
        if (status === '403') onRejected('FORBIDDEN', `HTTP ${status} on the WebSocket upgrade`);
      });
      this.on('message', (data, isBinary) => {
        const bytes = Array.isArray(data) ? data.reduce((total, part) => total + part.length, 0) : data.byteLength;
        if (isBinary) return onFrame(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
        if (bytes > MAX_REFUSAL_BYTES) return;
        const text = data.toString();
        if (!text.includes('"id":null')) return;
        try {
          const msg = JSON.parse(text) as { id?: unknown; error?: { message?: string; data?: { code?: string } } };
          if (msg.id === null && msg.error) onRejected(msg.error.data?.code ?? 'UNKNOWN', msg.error.message ?? '');
        } catch {
          // Not ours to judge; tRPC handles malformed frames.
        }
      });
    }
  };
}
