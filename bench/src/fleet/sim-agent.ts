import { AGENT_VERSION } from '@ninjait/shared';
import type { Agent } from 'node:http';
import { trpcHttp } from '../lib/http-trpc.ts';
import { sleep } from '../lib/progress.ts';
import { makeInventory, makeSample, machineShape, type MachineShape } from './sample.ts';
import { connectRaw, connectTrpc, type AgentTransport } from './transport.ts';
import type { WorkerConfig } from './types.ts';

const ENROLL_ATTEMPTS = 20;

/** What a simulated agent reports to its worker. */
export interface AgentEvents {
  enrolled(ms: number): void;
  connected(): void;
  disconnected(): void;
  pushed(ms: number, records: number): void;
  heartbeat(ms: number): void;
  commandAnswered(): void;
  error(code: string, message: string, kind: 'enroll' | 'connect' | 'push' | 'heartbeat' | 'command'): void;
}

/**
 * One simulated agent: enrolls with the fleet token over HTTP, opens one tRPC WebSocket with
 * its device credentials, heartbeats and pushes samples like the real agent, answers `echo`
 * commands when the server has them. No outbox: each push carries fresh samples.
 */
export class SimAgent {
  private readonly shape: MachineShape;
  private transport: AgentTransport | null = null;
  private timer: NodeJS.Timeout | null = null;
  private nextSeq = 1;
  private stopped = false;
  private readonly bootMs = Date.now() - 86_400_000;

  constructor(readonly index: number, private readonly config: WorkerConfig, private readonly events: AgentEvents,
    private readonly enrollAgent: Agent) {
    this.shape = machineShape(index);
  }

  private get serverUrl() {
    return this.config.serverUrls[this.index % this.config.serverUrls.length]!;
  }

  async enroll(): Promise<{ deviceId: string; deviceSecret: string } | null> {
    const provisioned = this.config.credentials?.[this.index];
    if (provisioned) return provisioned;
    const address = this.config.enrollAddresses[this.index % this.config.enrollAddresses.length];
    const input = { token: this.config.token, inventory: makeInventory(this.shape, this.config.runId) };
    for (let attempt = 1; attempt <= ENROLL_ATTEMPTS && !this.stopped; attempt++) {
      const started = performance.now();
      try {
        const out = await trpcHttp<{ deviceId: string; deviceSecret: string; nextSeq: number }>(
          this.serverUrl, 'agent.enroll', 'mutation', input, { localAddress: address, agent: this.enrollAgent });
        this.events.enrolled(performance.now() - started);
        this.nextSeq = out.nextSeq;
        return out;
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'NETWORK';
        if (code !== 'TOO_MANY_REQUESTS' && code !== 'ECONNRESET' && code !== 'NETWORK' && code !== 'SERVICE_UNAVAILABLE') {
          this.events.error(code, (error as Error).message, 'enroll');
          return null;
        }
        if (attempt === ENROLL_ATTEMPTS) this.events.error(code, (error as Error).message, 'enroll');
        // The limiter's window is 1 s in benchmarks; jitter keeps retries from arriving together.
        await sleep(500 + Math.random() * 1_000 * Math.min(attempt, 5));
      }
    }
    return null;
  }

  /** Enrolls, connects and starts reporting; resolves once the first heartbeat is answered. */
  async start(): Promise<boolean> {
    const credentials = await this.enroll();
    if (!credentials || this.stopped) return false;
    const connect = this.config.transport === 'trpc' ? connectTrpc : connectRaw;
    try {
      this.transport = await connect({
        url: this.serverUrl,
        params: { deviceId: credentials.deviceId, deviceSecret: credentials.deviceSecret },
        localAddress: this.config.sourceAddresses[this.index % this.config.sourceAddresses.length],
      });
    } catch (error) {
      this.events.error((error as { code?: string }).code ?? 'CONNECT', (error as Error).message, 'connect');
      return false;
    }
    const transport = this.transport;
    this.events.connected();
    void transport.closed.then(() => {
      if (!this.stopped) this.events.disconnected();
    });
    if (this.config.commands) this.listenForCommands(transport);
    if (this.config.heartbeat) await this.beat();
    if (this.config.mode === 'flood') {
      // Flooding waits for the coordinator's go (`startFlood`): early agents would starve the enrollments.
    } else {
      void this.push();
      this.timer = setInterval(() => {
        if (this.config.heartbeat) void this.beat();
        void this.push();
      }, this.config.intervalMs);
    }
    return true;
  }

  private records(n: number) {
    const now = Date.now();
    return Array.from({ length: n }, () => {
      const seq = this.nextSeq++;
      return { seq, collectedAt: now, kind: 'sample' as const, sample: makeSample(this.shape, seq, Math.round((now - this.bootMs) / 1000)) };
    });
  }

  private async push(): Promise<void> {
    const transport = this.transport;
    if (!transport || this.stopped) return;
    const records = this.records(this.config.recordsPerPush);
    const started = performance.now();
    try {
      const { ackSeq } = await transport.mutation<{ ackSeq: number }>('agent.push', { records });
      if (ackSeq < records.at(-1)!.seq) throw Object.assign(new Error(`ack ${ackSeq} below ${records.at(-1)!.seq}`), { code: 'SHORT_ACK' });
      this.events.pushed(performance.now() - started, records.length);
    } catch (error) {
      if (!this.stopped) this.events.error((error as { code?: string }).code ?? 'PUSH', (error as Error).message, 'push');
    }
  }

  /** Flood mode: pushes back to back, one in flight, until stopped. */
  async startFlood(): Promise<void> {
    while (!this.stopped && this.transport) await this.push();
  }

  private async beat(): Promise<void> {
    const transport = this.transport;
    if (!transport || this.stopped) return;
    const started = performance.now();
    try {
      await transport.mutation('agent.heartbeat', {
        agentVersion: AGENT_VERSION, intervalMs: this.config.intervalMs, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 0, errors: [],
      });
      this.events.heartbeat(performance.now() - started);
    } catch (error) {
      if (!this.stopped) this.events.error((error as { code?: string }).code ?? 'HEARTBEAT', (error as Error).message, 'heartbeat');
    }
  }

  /**
   * Runs `echo` like the agent's command runner would, without a shell: a quick command, so one
   * result carrying its output where the server offers that (`outputInResult`), else started →
   * output → result, in order, each acknowledged before the next (the server's state machine wants it).
   */
  private listenForCommands(transport: AgentTransport) {
    transport.subscribe('agent.commands', undefined, (data) => {
      const message = data as { type: string; command?: { id: string; script: string; outputInResult?: boolean } };
      if (message.type !== 'run' || !message.command) return;
      void this.answer(transport, message.command).then(
        () => this.events.commandAnswered(),
        (error: Error & { code?: string }) => this.events.error(error.code ?? 'COMMAND', error.message, 'command'),
      );
    });
  }

  private async answer(transport: AgentTransport, command: { id: string; script: string; outputInResult?: boolean }): Promise<void> {
    const commandId = command.id;
    const chunks = [{ seq: 0, stream: 'stdout', data: echoOutput(command.script) }];
    const result = { commandId, status: 'succeeded', exitCode: 0, error: null };
    if (command.outputInResult) return void await transport.mutation('agent.commandResult', { ...result, output: chunks });
    await transport.mutation('agent.commandStarted', { commandId });
    await transport.mutation('agent.commandOutput', { commandId, chunks });
    await transport.mutation('agent.commandResult', result);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.transport?.close();
  }
}

/** What `sh -c 'echo …'` prints for a simple echo script; other scripts print nothing. */
export function echoOutput(script: string): string {
  const match = /^echo\s+(.*)$/s.exec(script.trim());
  return match ? `${match[1]!.replace(/^(['"])(.*)\1$/s, '$2')}\n` : '';
}
