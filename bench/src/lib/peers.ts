import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
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

async function untilAnswers(what: string, child: ChildProcess, probe: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      await probe();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} did not answer: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    process.kill(-child.pid!, 'SIGTERM');
  });
}

/** A free loopback port Zabbix accepts: its ListenPort stops at 32767, below Linux's ephemeral range. */
async function freeZabbixPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer().once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000 for zabbix_agentd');
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
    stop: () => stopGroup(child),
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
  const peer: RunningPeer = { name: 'nodeExporter', pgid: child.pid!, collect: scrape, stop: () => stopGroup(child) };
  await untilAnswers('node_exporter', child, scrape).catch(async (error: unknown) => {
    await peer.stop();
    throw error;
  });
  return peer;
}

/** Starts every peer whose package is installed; says which are missing. */
export async function startPeers(dir: string): Promise<{ peers: RunningPeer[]; missing: string[] }> {
  const peers: RunningPeer[] = [];
  const missing: string[] = [];
  if (existsSync(PEER_BINARIES.zabbixAgent)) peers.push(await startZabbixAgent(dir));
  else missing.push('zabbix-agent');
  if (existsSync(PEER_BINARIES.nodeExporter)) peers.push(await startNodeExporter());
  else missing.push('prometheus-node-exporter');
  return { peers, missing };
}
