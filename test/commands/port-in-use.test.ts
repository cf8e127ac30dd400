import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '@ninjait/server/testing';
import { SERVER_CLI, startCli, type Proc } from '../support/processes.ts';

/**
 * A second server on a busy address stops at once with a message naming the setting to change
 * and leaves nothing behind: no DATA_DIR, no process that holds stores open without listening.
 * Before the port was claimed first, `serve` printed EADDRINUSE and kept running.
 */

/** Well past a CLI start (~2 s): a server that is still running after this has hung. */
const EXIT_WITHIN_MS = 30_000;

describe('a server start on an address it cannot bind', () => {
  let first: Harness;
  let dir: string;
  let squatter: Server;
  let squattedPort: number;
  const procs: Proc[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-port-'));
    // A real NinjaIT server holds one port, a plain socket another (any program could).
    first = await startHarness({ relational: 'pglite', cache: 'memory' });
    squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    squattedPort = (squatter.address() as { port: number }).port;
  }, 120_000);
  afterAll(async () => {
    await Promise.all(procs.map((proc) => proc.kill('SIGKILL')));
    await new Promise((resolve) => squatter?.close(resolve));
    await first?.stop();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  /** Runs the CLI and waits for it to exit: its code and output, or 'hung'. */
  const run = async (args: string[], env: Record<string, string>) => {
    const proc = startCli(SERVER_CLI, args, { LOG_LEVEL: 'warn', ...env });
    procs.push(proc);
    const timer = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), EXIT_WITHIN_MS).unref());
    const code = await Promise.race([proc.exited, timer]);
    return { code, output: proc.output() };
  };

  it.each([
    ['ninjait serve', ['serve'], 'server'],
    ['ninjait start (what npm start runs)', ['start', '--no-agent'], 'socket'],
  ] as const)('%s on a busy PORT exits 1 naming PORT, before creating DATA_DIR', async (_name, args, holder) => {
    const port = holder === 'server' ? first.server.port : squattedPort;
    const dataDir = join(dir, `${args[0]}-data`);
    const { code, output } = await run([...args], { PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '' });
    expect(code, output).toBe(1);
    expect(output).toContain(`PORT ${port} is already in use on 127.0.0.1`);
    expect(existsSync(dataDir)).toBe(false);
  }, EXIT_WITHIN_MS + 10_000);

  it('leaves the server that holds the port serving', async () => {
    expect((await fetch(`${first.server.url}/healthz`)).ok).toBe(true);
  });

  it('names HOST when HOST is not an address of this machine', async () => {
    const dataDir = join(dir, 'bad-host-data');
    // TEST-NET-3 (RFC 5737): never assigned to a local interface.
    const { code, output } = await run(['serve'], { PORT: '0', HOST: '203.0.113.7', DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '' });
    expect(code, output).toBe(1);
    expect(output).toContain('HOST 203.0.113.7 is not an address of this machine');
    expect(existsSync(dataDir)).toBe(false);
  }, EXIT_WITHIN_MS + 10_000);
});
