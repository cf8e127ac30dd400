import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { stopProcessGroup } from './agent-process.ts';
import { waitFor } from './progress.ts';
import { freePort } from './server-process.ts';

/**
 * The agents people compare ours with, from Debian's packages (`apt-get install zabbix-agent
 * prometheus-node-exporter`), run as our own children on loopback ports and asked for the same
 * metrics our agent collects (CPU, memory, the root filesystem, disks, every interface) at the
 * same interval. Absent binaries are reported, not installed.
 */
export const PEER_BINARIES = { zabbixAgent: '/usr/sbin/zabbix_agentd', nodeExporter: '/usr/bin/prometheus-node-exporter' } as const;
export type PeerName = keyof typeof PEER_BINARIES;

export interface RunningPeer {
  name: PeerName;
  /** Its process group: a Zabbix agent forks a collector and listeners. */
  pgid: number;
  /** One collection of the metrics, as a server would ask for them; resolves with the values' count. */
  collect(): Promise<number>;
  stop(): Promise<void>;
}

/** The Zabbix passive-check items matching our agent's sample. */
function zabbixItems(): string[] {
  const interfaces = Object.keys(networkInterfaces());
  return [
    'system.cpu.util', 'system.cpu.load[all,avg1]', 'system.cpu.num', 'system.uptime',
    'vm.memory.size[total]', 'vm.memory.size[available]', 'system.swap.size[,used]',
    'vfs.fs.size[/,total]', 'vfs.fs.size[/,used]', 'vfs.dev.read[,ops]', 'vfs.dev.write[,ops]',
    ...interfaces.flatMap((name) => [`net.if.in[${name}]`, `net.if.out[${name}]`]),
  ];
}

/** One passive check: `ZBXD\x01`, a little-endian 64-bit length, the key; the answer is framed the same way. */
function zabbixGet(port: number, key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.setTimeout(5_000, () => socket.destroy(new Error(`zabbix_agentd did not answer ${key}`)));
    socket.on('connect', () => {
      const body = Buffer.from(key);
      const header = Buffer.alloc(13);
      header.write('ZBXD\x01', 0, 'latin1');
      header.writeBigUInt64LE(BigInt(body.length), 5);
      socket.end(Buffer.concat([header, body]));
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const answer = Buffer.concat(chunks).subarray(13).toString();
      if (answer.startsWith('ZBX_NOTSUPPORTED')) reject(new Error(`${key}: ${answer}`));
      else resolve(answer);
    });
  });
}

/** Waits until `probe` succeeds; throws at once if the peer exits, or after 30 s. */
async function untilAnswers(what: string, child: ChildProcess, probe: () => Promise<unknown>): Promise<void> {
  await waitFor(`${what} to answer`, async () => {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    return probe().then(() => true, () => false);
  }, 30_000);
}

/** A free loopback port Zabbix (agent or server) accepts: its ListenPort stops at 32767, below Linux's ephemeral range. */
export async function freeZabbixPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer().once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000 for Zabbix');
}

async function startZabbixAgent(dir: string): Promise<RunningPeer> {
  const port = await freeZabbixPort();
  const config = join(dir, 'zabbix_agentd.conf');
  // Foreground, logging to its stdout; AllowRoot only matters when the bench runs as root (CI).
  await writeFile(config, [
    'LogType=console', `PidFile=${join(dir, 'zabbix_agentd.pid')}`, 'ListenIP=127.0.0.1', `ListenPort=${port}`,
    'Server=127.0.0.1', 'StartAgents=1', 'AllowRoot=1', '',
  ].join('\n'));
  const child = spawn(PEER_BINARIES.zabbixAgent, ['-f', '-c', config], { stdio: 'ignore', detached: true });
  const items = zabbixItems();
  const peer: RunningPeer = {
    name: 'zabbixAgent', pgid: child.pid!,
    async collect() {
      for (const item of items) await zabbixGet(port, item);
      return items.length;
    },
    stop: () => stopProcessGroup(child),
  };
  await untilAnswers('zabbix_agentd', child, () => zabbixGet(port, 'agent.ping')).catch(async (error: unknown) => {
    await peer.stop();
    throw error;
  });
  return peer;
}

/** The collectors that gather what our sample holds; node_exporter collects when scraped. */
const NODE_EXPORTER_COLLECTORS = ['cpu', 'meminfo', 'loadavg', 'filesystem', 'diskstats', 'netdev', 'stat', 'uname'];

async function startNodeExporter(): Promise<RunningPeer> {
  const port = await freePort();
  const child = spawn(PEER_BINARIES.nodeExporter, [
    `--web.listen-address=127.0.0.1:${port}`, '--collector.disable-defaults',
    ...NODE_EXPORTER_COLLECTORS.map((collector) => `--collector.${collector}`),
  ], { stdio: 'ignore', detached: true });
  const scrape = async () => {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    if (!response.ok) throw new Error(`node_exporter answered ${response.status}`);
    return (await response.text()).split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
  };
  const peer: RunningPeer = { name: 'nodeExporter', pgid: child.pid!, collect: scrape, stop: () => stopProcessGroup(child) };
  await untilAnswers('node_exporter', child, scrape).catch(async (error: unknown) => {
    await peer.stop();
    throw error;
  });
  return peer;
}

/** Starts every peer whose package is installed; says which are missing. One that fails to start stops those started before it. */
export async function startPeers(dir: string): Promise<{ peers: RunningPeer[]; missing: string[] }> {
  const peers: RunningPeer[] = [];
  const missing: string[] = [];
  const starts = [
    { binary: PEER_BINARIES.zabbixAgent, pkg: 'zabbix-agent', start: () => startZabbixAgent(dir) },
    { binary: PEER_BINARIES.nodeExporter, pkg: 'prometheus-node-exporter', start: startNodeExporter },
  ];
  try {
    for (const { binary, pkg, start } of starts) {
      if (existsSync(binary)) peers.push(await start());
      else missing.push(pkg);
    }
  } catch (error) {
    await Promise.all(peers.map((peer) => peer.stop()));
    throw error;
  }
  return { peers, missing };
}

/** What the peers answered while `collectEvery` ran: collections, values and failed collections per peer. */
export type PeerTally = Record<string, { collections: number; values: number; errors: number }>;

/** Has every peer collect every `intervalMs`, as its server would ask it to, until `stop`. */
export function collectEvery(peers: readonly RunningPeer[], intervalMs: number) {
  const tally: PeerTally = {};
  const controller = new AbortController();
  const loop = (async () => {
    while (peers.length > 0 && !controller.signal.aborted) {
      for (const peer of peers) {
        const counts = (tally[peer.name] ??= { collections: 0, values: 0, errors: 0 });
        await peer.collect().then((values) => { counts.collections++; counts.values += values; }, () => { counts.errors++; });
      }
      await delay(intervalMs, undefined, { signal: controller.signal }).catch(() => undefined);
    }
  })();
  return {
    tally,
    async stop() {
      controller.abort();
      await loop;
    },
  };
}
