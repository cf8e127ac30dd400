import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, dropRedisKeys } from '@ninjait/server/testing';
import { REPO_ROOT, freePort, inheritedEnv } from '../support/processes.ts';
import { serverVariants } from '../security/edge-support.ts';
import { parseDockerfile, replayRuntimeStage, run, type ReplayedImage } from './dockerfile.ts';

/**
 * Packages of development a production image must not hold (the old image ran the server through
 * tsx), and the agent with its native addon. (typescript is there: tRPC names it a peer dependency.)
 */
const DEVELOPMENT_ONLY = ['tsx', 'esbuild', 'vitest', 'vite', 'playwright-core', 'fast-check', '@ninjait/agent', 'better-sqlite3', 'systeminformation'];

/** `node` in the image is the Node running these tests. */
const withThisNode = (command: string[]) => (command[0] === 'node' ? [process.execPath, ...command.slice(1)] : command);

/**
 * The Docker image's runtime stage, replayed in a temp folder (no Docker engine needed): its
 * files copied, its `npm ci --omit=dev` run, its CMD started on each engine pair and checked
 * through its own HEALTHCHECK. Proves the image holds what the built server needs and no more.
 */
describe('Docker runtime stage, replayed without Docker', () => {
  let dir: string;
  let image: ReplayedImage;
  const app = () => image.dir;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-image-'));
    image = await replayRuntimeStage(parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')), { repo: REPO_ROOT, into: join(dir, 'app') });
  }, 300_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('holds the built server, the console and the production dependencies, and nothing of development', () => {
    expect(existsSync(join(app(), 'server/dist/cli/main.mjs'))).toBe(true);
    // The embedded database's seed: the cluster folder a new DATA_DIR is filled from, and its tarball.
    expect(['cluster/PG_VERSION', 'pglite.tar.gz', 'migrations.json'].filter((path) => !existsSync(join(app(), 'server/pglite-seed', path)))).toEqual([]);
    expect(existsSync(join(app(), 'web/dist/index.html'))).toBe(true);
    expect(['server/src', 'shared/src', 'agent/src', 'agent/dist', 'scripts'].filter((path) => existsSync(join(app(), path)))).toEqual([]);
    const installed = (name: string) => existsSync(join(app(), 'node_modules', name)) || existsSync(join(app(), 'server/node_modules', name));
    expect(DEVELOPMENT_ONLY.filter(installed)).toEqual([]);
    const { dependencies } = JSON.parse(readFileSync(join(REPO_ROOT, 'server/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(dependencies).filter((name) => !installed(name))).toEqual([]);
  });

  for (const variant of serverVariants()) {
    it(`starts on ${variant.name}: its HEALTHCHECK passes, it serves the console and an install script, SIGTERM stops it`, async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const dataDir = join(dir, `data-${variant.engines}`);
      const run4 = randomBytes(4).toString('hex');
      const database = variant.engines === 'postgres+redis' ? await createScratchDatabase(process.env.DATABASE_URL, 'ninjait_image') : null;
      const keyPrefix = `image:${run4}:`;
      const queuePrefix = `image${run4}`;
      const env = {
        ...inheritedEnv(), ...image.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', PUBLIC_URL: url,
        ...(database ? { DATABASE_URL: database.url, REDIS_URL: process.env.REDIS_URL!, REDIS_KEY_PREFIX: keyPrefix, QUEUE_PREFIX: queuePrefix } : {}),
      };
      const [command, ...args] = withThisNode(image.cmd);
      const server = spawn(command!, args, { cwd: app(), env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | string>((done) => server.once('exit', (code, signal) => done(code ?? signal ?? -1)));
      try {
        // Its own HEALTHCHECK, every half second, as Docker would; a server that exits fails at once.
        const deadline = Date.now() + 150_000;
        for (;;) {
          if (server.exitCode !== null || server.signalCode !== null) throw new Error(`the server exited with ${server.exitCode ?? server.signalCode}:\n${output}`);
          if (await run(withThisNode(image.healthcheck), { cwd: app(), env }).then(() => true, () => false)) break;
          if (Date.now() > deadline) throw new Error(`the HEALTHCHECK did not pass within 150 s:\n${output}`);
          await new Promise((done) => setTimeout(done, 500));
        }

        const page = await fetch(`${url}/`);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<div id="root">');

        // The image's own CLI, as `docker compose exec ninjait ninjait …` runs it.
        const cli = (...words: string[]) => run([process.execPath, 'server/bin/ninjait.js', ...words, '--server', url, '--data-dir', dataDir], { cwd: app(), env });
        await cli('org', 'create', 'Image');
        const token = (await cli('token', 'create', '--org', 'Image')).split('\n')[0]!.trim();
        const script = await fetch(`${url}/install.sh?token=${encodeURIComponent(token)}`);
        expect(script.status).toBe(200);
        expect(await script.text()).toContain(url);

        server.kill('SIGTERM');
        expect(await exited).toBe(0);
      } finally {
        server.kill('SIGKILL');
        await exited;
        await database?.drop();
        if (database) await dropRedisKeys(process.env.REDIS_URL!, [`${keyPrefix}*`, `${queuePrefix}:*`]);
      }
    }, 240_000);
  }
});
