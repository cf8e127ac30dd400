import type { OutboxRecord } from '@ninjait/shared';
import { connectRaw, type AgentTransport } from '@ninjait/bench/fleet/transport';
import { makeInventory, makeSample, machineShape, type MachineShape } from '@ninjait/bench/fleet/sample';
import { loopbackAddresses } from '@ninjait/bench/fleet';
import { trpcHttp } from '@ninjait/bench/http-trpc';
import { waitFor } from '../../support/processes.ts';
import type { Collected } from './verify.ts';

const MAX_RECORDS_PER_PUSH = 500;
/** Enrollment is limited per source address; spreading over a few loopback addresses keeps it quick. */
const ENROLL_ADDRESSES = loopbackAddresses(8, 20);

/**
 * A simulated agent with the real agent's delivery rules and none of its weight: it keeps what
 * it collected in memory until the server acks it, sends the oldest first, and reconnects (with
 * jitter) whenever its socket closes. The wire is the bench fleet's raw tRPC WebSocket client.
 */
export class SimAgent {
  readonly shape: MachineShape;
  deviceId = '';
  private secret = '';
  private nextSeq = 1;
  private readonly outbox = new Map<number, OutboxRecord>();
  private transport: AgentTransport | null = null;
  private pushing = false;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  reconnects = 0;
  pushErrors = 0;
  lastError = '';
  private errorStreak = 0;

  constructor(readonly index: number, private serverUrl: string, private readonly runId: string, private readonly intervalMs: number) {
    this.shape = machineShape(index);
  }

  async enroll(token: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await trpcHttp<{ deviceId: string; deviceSecret: string; nextSeq: number }>(this.serverUrl, 'agent.enroll', 'mutation',
          { token, inventory: makeInventory(this.shape, this.runId) }, { localAddress: ENROLL_ADDRESSES[this.index % ENROLL_ADDRESSES.length]! });
        this.deviceId = out.deviceId;
        this.secret = out.deviceSecret;
        this.nextSeq = out.nextSeq;
        return;
      } catch (error) {
        if (attempt > 30) throw error;
        await new Promise((done) => setTimeout(done, 300 + Math.random() * 700));
      }
    }
  }

  start(): void {
    this.collect();
    this.timer = setInterval(() => this.collect(), this.intervalMs);
    void this.connect();
  }

  private collect() {
    const seq = this.nextSeq++;
    const now = Date.now();
    this.outbox.set(seq, { seq, collectedAt: now, kind: 'sample', sample: makeSample(this.shape, seq, 86_400 + seq) });
    void this.push();
  }

  private async connect(): Promise<void> {
    while (!this.stopped && !this.transport) {
      try {
        const transport = await connectRaw({ url: this.serverUrl, params: { deviceId: this.deviceId, deviceSecret: this.secret }, timeoutMs: 5_000 });
        this.transport = transport;
        void transport.closed.then(() => {
          if (this.transport === transport) this.transport = null;
          if (!this.stopped) {
            this.reconnects++;
            setTimeout(() => void this.connect(), 500 + Math.random() * 1_000);
          }
        });
        void this.push();
      } catch {
        await new Promise((done) => setTimeout(done, 500 + Math.random() * 1_000));
      }
    }
  }

  private async push(): Promise<void> {
    const transport = this.transport;
    if (!transport || this.pushing || this.outbox.size === 0 || this.stopped) return;
    this.pushing = true;
    try {
      const records = [...this.outbox.values()].slice(0, MAX_RECORDS_PER_PUSH);
      const { ackSeq } = await transport.mutation<{ ackSeq: number }>('agent.push', { records });
      for (const seq of this.outbox.keys()) if (seq <= ackSeq) this.outbox.delete(seq);
      this.errorStreak = 0;
    } catch (error) {
      this.pushErrors++;
      this.lastError = `${(error as { code?: string }).code ?? ''} ${(error as Error).message}`;
      // Like the real agent's link: the server checks credentials once per socket, so a socket whose
      // check failed (database down) keeps failing; after 3 errors in a row, open a new one.
      if (++this.errorStreak >= 3) {
        this.errorStreak = 0;
        transport.close();
      }
    } finally {
      this.pushing = false;
    }
    if (this.outbox.size > 0 && this.transport === transport) setTimeout(() => void this.push(), 50);
  }

  /** Stops collecting; returns what it collected once every record is acknowledged. */
  async stopCollecting(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** A push is on the wire, not yet acked. */
  get pushingNow(): boolean {
    return this.pushing;
  }

  get buffered(): number {
    return this.outbox.size;
  }

  collected(): Collected {
    return { deviceId: this.deviceId, nextSeq: this.nextSeq, droppedTotal: 0 };
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.transport?.close();
  }
}

/** `count` simulated agents enrolled with `token`, started, reporting every `intervalMs`. */
export async function startSimFleet(count: number, serverUrl: string, token: string, intervalMs: number, firstIndex = 1000) {
  const runId = Math.random().toString(36).slice(2, 8);
  const agents = Array.from({ length: count }, (_, i) => new SimAgent(firstIndex + i, serverUrl, runId, intervalMs));
  for (let i = 0; i < agents.length; i += 20) await Promise.all(agents.slice(i, i + 20).map((agent) => agent.enroll(token)));
  for (const agent of agents) agent.start();
  return {
    agents,
    async stopAndDrain(timeoutMs = 60_000) {
      await Promise.all(agents.map((agent) => agent.stopCollecting()));
      await waitFor('simulated agents to drain', async () => agents.every((agent) => agent.buffered === 0), timeoutMs, 200);
      for (const agent of agents) agent.close();
      return agents.map((agent) => agent.collected());
    },
    close: () => agents.forEach((agent) => agent.close()),
  };
}
