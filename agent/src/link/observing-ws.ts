import WebSocket from 'ws';

/** A `ws` WebSocket that reports connection-level errors (`id: null`) before tRPC sees them. */
export function observingWebSocket(onRejected: (code: string, message: string) => void) {
  return class ObservingWebSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      this.on('message', (data, isBinary) => {
        if (isBinary) return;
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
