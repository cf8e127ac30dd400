import type { TRPCClient } from '@trpc/client';
import type { AppRouter } from '../src/app/router.ts';

export interface RoundTrip {
  /** From sending `commands.run` to the first output chunk containing the expected text. */
  outputMs: number;
  /** To the result (exit code) arriving. */
  resultMs: number;
  exitCode: number | null;
}

/**
 * Times one technician → agent → technician round trip: `commands.run` of `echo hi` (or
 * `script`), then `commands.output` until the text is seen and the result arrives. `client`
 * must be a WebSocket tRPC client logged in as a technician (subscriptions need the socket).
 */
export async function measureEchoRoundTrip(
  client: TRPCClient<AppRouter>,
  deviceId: string,
  options: { script?: string; expect?: string; timeoutMs?: number } = {},
): Promise<RoundTrip> {
  const expect = options.expect ?? 'hi';
  const started = performance.now();
  const command = await client.commands.run.mutate({ deviceId, script: options.script ?? `echo ${expect}`, timeoutSec: 30 });
  return new Promise<RoundTrip>((resolve, reject) => {
    let outputMs: number | null = null;
    let seen = '';
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      reject(new Error(`No result for command ${command.id} within ${options.timeoutMs ?? 30_000} ms`));
    }, options.timeoutMs ?? 30_000);
    const subscription = client.commands.output.subscribe({ id: command.id }, {
      onData(event) {
        if (event.type === 'chunk' && outputMs === null) {
          seen += event.data;
          if (seen.includes(expect)) outputMs = performance.now() - started;
        } else if (event.type === 'result') {
          clearTimeout(timer);
          subscription.unsubscribe();
          const resultMs = performance.now() - started;
          resolve({ outputMs: outputMs ?? resultMs, resultMs, exitCode: event.exitCode });
        }
      },
      onError(error) {
        clearTimeout(timer);
        reject(error);
      },
    });
  });
}
