import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '@ninjait/server/testing';
import { findExecutable } from '../support/executables.ts';
import { startHarnessAgent } from '../support/harness-agent.ts';
import { SERVER_CLI, inheritedEnv, runCli, waitFor, type Proc } from '../support/processes.ts';

const hasTmux = Boolean(findExecutable('tmux'));
if (!hasTmux) console.warn('tmux is missing: skipping the `ninjait shell` terminal test (apt-get install -y tmux; the test runner installs it as root)');

/**
 * `ninjait shell DEVICE` as a person uses it: in a real terminal (a tmux pane, read back with
 * capture-pane), on this machine's real agent. What is typed runs on the device, the device's
 * pty follows the pane's size, Ctrl-C stops the foreground job, and `exit` ends the CLI cleanly.
 */
describe.skipIf(!hasTmux)('the CLI on this machine\'s real agent: ninjait shell in a real terminal (tmux), ninjait cp -r', () => {
  let h: Harness;
  let agent: Proc | undefined;
  let dir: string;
  let deviceId: string;
  // A tmux server of this test's own, its socket in the test's folder (-S; -L would leave
  // /tmp/tmux-UID behind): nothing else's sessions are touched, all of it goes at the end.
  const tmux = (...args: string[]) => {
    const result = spawnSync('tmux', ['-S', join(dir, 'tmux.sock'), '-f', '/dev/null', ...args], { encoding: 'utf8', env: { ...inheritedEnv(), TERM: 'xterm-256color' } });
    if (result.status !== 0) throw new Error(`tmux ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
    return result.stdout;
  };
  const screen = () => tmux('capture-pane', '-p', '-J', '-t', 'shell');
  const untilScreen = async (pattern: RegExp, timeoutMs = 20_000) => {
    let last = '';
    try {
      return await waitFor(`${pattern} in the pane`, () => Promise.resolve(pattern.exec((last = screen()))), timeoutMs, 150);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- the pane showed:\n${last}`);
    }
  };
  /** Types like a person (literal keys), then Enter. */
  const type = (line: string) => {
    tmux('send-keys', '-t', 'shell', '-l', line);
    tmux('send-keys', '-t', 'shell', 'Enter');
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ninjait-shell-tmux-'));
    h = await startHarness({ relational: 'pglite', cache: 'memory' });
    ({ deviceId, agent } = await startHarnessAgent(h, 'Shell Tmux', join(dir, 'agent')));
  }, 180_000);

  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {
      // Already gone with its last session.
    }
    await agent?.kill('SIGKILL');
    await h?.stop();
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  });

  it('types a command, follows a resize, stops a sleep with Ctrl-C and exits', async () => {
    // The CLI's exit code stays on the pane after it ends.
    const command = [process.execPath, SERVER_CLI, 'shell', deviceId, '--shell', 'bash', '--server', h.server.url, '--data-dir', h.dataDir]
      .map((part) => `'${part}'`).join(' ');
    tmux('new-session', '-d', '-s', 'shell', '-x', '100', '-y', '30', `${command}; echo "[cli exited $?]"; sleep 600`);

    type('echo $((6*7))');
    await untilScreen(/^42$/m);

    type('stty size');
    await untilScreen(/^30 100$/m);
    tmux('resize-window', '-t', 'shell', '-x', '120', '-y', '40');
    // The pane's size reaches the device's pty through the CLI's SIGWINCH and `shell.resize`.
    await waitFor('the device pty to follow the pane', async () => {
      type('stty size');
      return Promise.resolve(/^40 120$/m.test(screen()));
    }, 20_000, 1_000).catch((error: Error) => {
      throw new Error(`${error.message}\n--- the pane showed:\n${screen()}`);
    });

    const started = Date.now();
    type('sleep 100; echo "slept-""through"');
    await new Promise((resolve) => setTimeout(resolve, 500));
    tmux('send-keys', '-t', 'shell', 'C-c');
    type('echo "after-$((40 + 2))"');
    await untilScreen(/^after-42$/m);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(screen()).not.toContain('slept-through');

    type('exit');
    const [exited] = await untilScreen(/\[cli exited \d+\]/);
    expect(exited).toBe('[cli exited 0]');
    expect(screen()).toContain('(session closed:');
  }, 90_000);

  it('copies a folder to the device and back with `ninjait cp -r`, and refuses a folder without -r', async () => {
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'conf', 'd'), { recursive: true });
    await writeFile(join(tree, 'run.sh'), '#!/bin/sh\necho hi\n');
    await writeFile(join(tree, 'conf', 'd', 'one.conf'), 'x = 1\n');
    await symlink('/etc/hostname', join(tree, 'conf', 'hostname'));
    const cli = (...args: string[]) => runCli(SERVER_CLI, ['cp', ...args, '--server', h.server.url, '--data-dir', h.dataDir]);
    const onDevice = join(dir, 'on-device');
    const up = JSON.parse(await cli('-r', tree, `${deviceId}:${onDevice}`, '--json')) as { files: number; folders: number; skipped: string[] };
    expect(up).toMatchObject({ path: onDevice, files: 2, folders: 3, skipped: ['conf/hostname'] });
    expect(await readFile(join(onDevice, 'conf', 'd', 'one.conf'), 'utf8')).toBe('x = 1\n');
    const back = join(dir, 'back');
    const line = await cli('--recursive', `${deviceId}:${onDevice}`, back);
    expect(line).toBe(`${onDevice}  3 folders, 2 files, ${'#!/bin/sh\necho hi\n'.length + 'x = 1\n'.length} bytes\n`);
    expect((await readdir(back, { recursive: true })).sort()).toEqual(['conf', 'conf/d', 'conf/d/one.conf', 'run.sh']);
    await expect(cli(tree, `${deviceId}:${join(dir, 'not-copied')}`)).rejects.toThrow(/is a folder: copy it with -r/);
  }, 90_000);
});
