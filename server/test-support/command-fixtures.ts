import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTRPCClient, createWSClient, httpLink, wsLink, type TRPCClient } from '@trpc/client';
import { WebSocket } from 'ws';
import { PROTOCOL_VERSION, PROTOCOL_VERSION_PARAM, type Inventory } from '@ninjait/shared';
import type { AppRouter } from '../src/app/router.ts';
import { LOCAL_ADMIN_HEADER } from '../src/platform/trpc/context.ts';
import { createLogger, observingWebSocket } from '@ninjait/agent';
import { startCommandRunner, streamOpener, type CommandRunner, type OpenStream } from '@ninjait/agent/exec';
import { fixedTrust, serverTransport } from '@ninjait/agent/link/server-transport';
import type { OutputEvent } from '../src/features/commands/types.ts';

export type Client = TRPCClient<AppRouter>;
const PASSWORD = 'correct horse battery staple';

/**
 * A WebSocket tRPC client with connection params; `close` ends its socket. With `onFrame`, the
 * server's binary frames (upload chunks) go there, on the agent's own socket class.
 */
export function wsClient(url: string, params: Record<string, string>, onFrame?: (frame: Buffer) => void) {
  const socketClass = onFrame ? observingWebSocket(() => undefined, {}, onFrame) : WebSocket;
  const socket = createWSClient({ url: `${url.replace(/^http/, 'ws')}/trpc`, WebSocket: socketClass as never, connectionParams: params, retryDelayMs: () => 100 });
  return {
    client: createTRPCClient<AppRouter>({ links: [wsLink({ client: socket })] }),
    /** A binary frame on the same socket, as the agent's link sends download chunks; false when it is not open. */
    sendFrame(frame: Buffer): boolean {
      const ws = socket.connection?.ws;
      if (ws?.readyState !== 1) return false;
      ws.send(frame);
      return true;
    },
    close: () => socket.close(),
  };
}

export const httpClient = (url: string, headers: Record<string, string> = {}) =>
  createTRPCClient<AppRouter>({ links: [httpLink({ url: `${url}/trpc`, headers })] });

export function inventory(machineKey: string, platform = 'linux'): Inventory {
  return {
    hostname: `host-${machineKey}`,
    os: { platform, distro: 'Debian GNU/Linux', release: '12', kernel: '6.1.0', arch: 'x64' },
    hardware: { manufacturer: 'QEMU', model: 'Standard PC', serial: '', uuid: '' },
    machineKey,
    cpu: { brand: 'Test CPU', cores: 2, physicalCores: 2, speedGHz: 2.5 },
    memoryBytes: 8 * 1024 ** 3,
    disks: [],
    interfaces: [],
    agentVersion: '0.1.0',
  };
}

export interface Tenant {
  orgId: string;
  technician: Client;
  viewer: Client;
  technicianToken: string;
  viewerToken: string;
  enroll(machineKey: string, platform?: string): Promise<{ deviceId: string; deviceSecret: string }>;
}

/** An organization with a technician and a viewer logged in, through the local admin. */
export async function createTenant(url: string, adminToken: string, name: string): Promise<Tenant> {
  const admin = httpClient(url, { [LOCAL_ADMIN_HEADER]: adminToken });
  const org = await admin.admin.organizations.create.mutate({ name });
  const slug = name.toLowerCase().replace(/\W+/g, '-');
  const login = async (role: 'technician' | 'viewer') => {
    const email = `${role}@${slug}.test`;
    await admin.admin.users.create.mutate({ org: org.id, email, password: PASSWORD, role });
    return (await httpClient(url).auth.login.mutate({ email, password: PASSWORD })).sessionToken;
  };
  const technicianToken = await login('technician');
  const viewerToken = await login('viewer');
  const bearer = (token: string) => httpClient(url, { authorization: `Bearer ${token}` });
  return {
    orgId: org.id,
    technician: bearer(technicianToken),
    viewer: bearer(viewerToken),
    technicianToken,
    viewerToken,
    async enroll(machineKey, platform = 'linux') {
      const { token } = await admin.admin.tokens.create.mutate({ org: org.id, name: machineKey });
      const enrolled = await httpClient(url).agent.enroll.mutate({ token, inventory: inventory(machineKey, platform) });
      return { deviceId: enrolled.deviceId, deviceSecret: enrolled.deviceSecret };
    },
  };
}

/** A real agent-side runner (agent/src/exec) on its own socket and data folder. */
/**
 * An agent's command runner on its own socket. `binaryFrames: false` is an agent from before
 * binary chunks: it answers every request in JSON, and announces no protocol version, so the
 * server sends it upload chunks as JSON too.
 */
export async function startAgent(url: string, device: { deviceId: string; deviceSecret: string }, dataDir?: string, remote: { usePty?: boolean; fileRoots?: string[]; binaryFrames?: boolean; streams?: boolean | ((open: OpenStream) => OpenStream) } = {}) {
  const dir = dataDir ?? await mkdtemp(join(tmpdir(), 'ninjait-agent-'));
  const { binaryFrames = true, streams = true, ...options } = remote;
  const frameListeners = new Set<(frame: Buffer) => void>();
  let framesReceived = 0;
  const credentials = { deviceId: device.deviceId, deviceSecret: device.deviceSecret };
  const socket = binaryFrames
    ? wsClient(url, { ...credentials, [PROTOCOL_VERSION_PARAM]: String(PROTOCOL_VERSION) }, (frame) => {
      framesReceived += 1;
      frameListeners.forEach((l) => l(frame));
    })
    : wsClient(url, credentials);
  const runner: CommandRunner = startCommandRunner({
    client: socket.client, dataDir: dir, log: createLogger('silent'), resubscribeDelayMs: 200, ...options,
    // Download streams as the agent opens them; a function wraps the opener (a test's faults).
    ...(streams ? { openStream: (streams === true ? (open: OpenStream) => open : streams)(streamOpener(serverTransport(url, fixedTrust(null)))) } : {}),
    ...(binaryFrames ? {
      sendFrame: socket.sendFrame,
      onFrame: (listener: (frame: Buffer) => void) => (frameListeners.add(listener), () => frameListeners.delete(listener)),
    } : {}),
  });
  return {
    dataDir: dir,
    runner,
    /** Binary frames the server sent this agent (upload chunks). */
    get framesReceived() {
      return framesReceived;
    },
    async stop(removeData = !dataDir) {
      await runner.stop();
      await socket.close();
      if (removeData) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Collects a command's output events until the result (or `timeoutMs`). */
export function collectOutput(client: Client, id: string, options: { timeoutMs?: number; onEvent?: (event: OutputEvent) => void; local?: boolean } = {}) {
  return new Promise<OutputEvent[]>((resolve, reject) => {
    const events: OutputEvent[] = [];
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      reject(new Error(`no result for ${id}; got ${JSON.stringify(events).slice(0, 500)}`));
    }, options.timeoutMs ?? 20_000);
    const observer = {
      onData(event: OutputEvent) {
        events.push(event);
        options.onEvent?.(event);
        if (event.type === 'result') {
          clearTimeout(timer);
          subscription.unsubscribe();
          resolve(events);
        }
      },
      onError(error: unknown) {
        clearTimeout(timer);
        reject(error);
      },
    };
    const subscription = options.local
      ? client.commands.local.output.subscribe({ id }, observer)
      : client.commands.output.subscribe({ id }, observer);
  });
}

export const textOf = (events: OutputEvent[], stream?: 'stdout' | 'stderr') =>
  events.filter((e): e is Extract<OutputEvent, { type: 'chunk' }> => e.type === 'chunk' && (!stream || e.stream === stream)).map((e) => e.data).join('');
export const resultOfEvents = (events: OutputEvent[]) => events.find((e) => e.type === 'result') as Extract<OutputEvent, { type: 'result' }>;

export { codeOf } from './harness.ts';

/** True when the process is gone (or a zombie waiting for a reaper that is not ours). */
export async function processGone(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  const { readFile } = await import('node:fs/promises');
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat === '' || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

export const until = async (check: () => Promise<boolean> | boolean, timeoutMs = 10_000, stepMs = 50) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  throw new Error('condition not met in time');
};
