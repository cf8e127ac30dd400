import { connect as tcpConnect } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/**
 * The NATS a run may put the ingest log on: `NATS_URL`, else the machine's own on 4222 when it
 * answers; `NATS_URL=none` measures the relational log alone (half the run, for A/B pairs).
 */
export async function natsForBench(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  if (env.NATS_URL === 'none') return null;
  if (env.NATS_URL) return env.NATS_URL;
  const open = await new Promise<boolean>((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port: 4222, timeout: 1_000 });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
  });
  return open ? 'nats://127.0.0.1:4222' : null;
}

/** Deletes a run's stream: the machine's JetStream is shared, a benchmark leaves nothing on it. */
export async function deleteStream(url: string, stream: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}
