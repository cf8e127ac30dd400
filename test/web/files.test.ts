import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Route } from 'playwright-core';
import { findExecutable } from '../support/executables.ts';
import { waitFor } from '../support/processes.ts';
import {
  hasChromium, ownerAtLocalDevice, screenshot, shown, textOf,
  type ConsoleBrowser, type ConsoleServer, type LocalAgent, type OwnerAtDevice,
} from './console-support.ts';

const unzip = findExecutable('unzip');
if (!unzip) console.warn('unzip is missing: the folder .zip download is not checked here (apt-get install -y unzip; the test runner installs it as root)');

/** The streamed download route the Files tab reads (server/src/features/remote/download-route.ts). */
const DOWNLOAD_PATH = '/remote/files/download';

/** The upload chunk route the Files tab sends each chunk's bytes to (server/src/features/remote/upload-route.ts). */
const UPLOAD_PATH = '/remote/files/upload';

/** What the issue asks the console to carry both ways; the time each direction took is printed. */
const FILE_BYTES = 100 * 1024 * 1024;

/** Waits for the Files tab's outcome: its status line, or the error it shows instead (which fails the test with its words). */
async function outcome(page: Page, timeout: number): Promise<string> {
  const seen = await waitFor('the transfer to end', async () => {
    // The connection banner comes and goes by itself while a transfer resumes: not the transfer's outcome.
    const error = page.locator('[role=alert]:not([data-testid=connection-banner])');
    if (await error.count()) return { error: (await error.first().textContent()) ?? '' };
    const status = page.getByRole('status');
    return (await status.count()) ? { status: (await status.first().textContent()) ?? '' } : null;
  }, timeout, 250);
  if ('error' in seen) throw new Error(`the console says: ${seen.error}`);
  return seen.status;
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Random bytes written in 1 MiB pieces (never 100 MB in memory), hashed as they are written. */
async function randomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < size;) {
      const piece = randomBytes(Math.min(1024 * 1024, size - written));
      hash.update(piece);
      await file.write(piece);
      written += piece.length;
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}

/**
 * The device's Files and Processes tabs in real Chromium, on this machine's real agent: a 100 MB
 * random file goes up through the console and comes back down, equal to the byte (SHA-256 on
 * disk, at every hop), and a process started for the test is ended from the Processes tab.
 */
describe.skipIf(!hasChromium)('files and processes of a device in the console', () => {
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  let local: LocalAgent;
  let page: Page;
  let deviceDir: string;
  let localDir: string;

  let owner: OwnerAtDevice | undefined;

  beforeAll(async () => {
    owner = await ownerAtLocalDevice('web-files', 'files test');
    ({ s, b, local, page } = owner);
    // The agent runs on this machine: its "device" folders are folders here.
    deviceDir = join(s.dir, 'on-the-device');
    localDir = join(s.dir, 'on-the-desk');
    await mkdir(deviceDir);
    await mkdir(localDir);
  }, 180_000);
  afterAll(() => owner?.stop());

  /**
   * What the page asked of the server while `work` ran: streamed downloads (their offsets),
   * base64 chunk calls (either way), and upload chunks sent as bytes.
   */
  async function watchRequests<T>(work: () => Promise<T>): Promise<{ result: T; streamOffsets: number[]; chunkCalls: number; uploadBodies: number }> {
    const streamOffsets: number[] = [];
    let chunkCalls = 0;
    let uploadBodies = 0;
    const onRequest = (request: { url(): string }) => {
      const url = new URL(request.url());
      if (url.pathname === DOWNLOAD_PATH) streamOffsets.push(Number(url.searchParams.get('offset')));
      if (url.pathname === UPLOAD_PATH) uploadBodies += 1;
      if (url.pathname.startsWith('/trpc/') && /remote\.files\.(download|upload)Chunk/.test(url.pathname)) chunkCalls += 1;
    };
    page.on('request', onRequest);
    try {
      return { result: await work(), streamOffsets, chunkCalls, uploadBodies };
    } finally {
      page.off('request', onRequest);
    }
  }

  it('uploads a 100 MB random file through the Files tab and downloads it back as one stream, with equal SHA-256', async () => {
    const source = join(localDir, 'random-100mb.bin');
    const expected = await randomFile(source, FILE_BYTES);

    await page.goto(`${s.url}/devices/${local.deviceId}?tab=files`);
    await page.getByLabel('Folder', { exact: true }).fill(deviceDir);
    await page.getByRole('button', { name: 'Open folder' }).click();
    await shown(page.getByText('This folder is empty'));

    const upStarted = Date.now();
    const { result: said, chunkCalls: upChunkCalls, uploadBodies } = await watchRequests(async () => {
      await page.getByLabel('File to upload').setInputFiles(source);
      await shown(page.getByTestId('transfer'));
      return outcome(page, 120_000);
    });
    expect(said).toBe(`Uploaded random-100mb.bin to ${join(deviceDir, 'random-100mb.bin')} (100.0 MiB, SHA-256 ${expected}).`);
    const upMs = Date.now() - upStarted;
    // Each 1 MiB chunk went once as bytes, none as a base64 call.
    expect(upChunkCalls).toBe(0);
    expect(uploadBodies).toBeGreaterThanOrEqual(FILE_BYTES / (1024 * 1024));
    expect((await stat(join(deviceDir, 'random-100mb.bin'))).size).toBe(FILE_BYTES);
    expect(await sha256Of(join(deviceDir, 'random-100mb.bin'))).toBe(expected);
    // Nothing half-written is left beside it.
    await waitFor('the listing to show the file', async () => (await page.getByTestId('files-table').textContent())?.includes('random-100mb.bin'), 20_000);
    expect(await page.getByTestId('files-table').locator('tbody tr').count()).toBe(1);

    const downStarted = Date.now();
    const { result: [download], streamOffsets, chunkCalls } = await watchRequests(() => Promise.all([
      page.waitForEvent('download', { timeout: 120_000 }),
      page.getByTestId('files-table').locator('tr', { hasText: 'random-100mb.bin' }).getByRole('button', { name: 'Download' }).click(),
    ]));
    // One streamed body from the start, and no base64 chunk call.
    expect(streamOffsets).toEqual([0]);
    expect(chunkCalls).toBe(0);
    const saved = join(localDir, 'downloaded.bin');
    await download.saveAs(saved);
    const downMs = Date.now() - downStarted;
    expect(download.suggestedFilename()).toBe('random-100mb.bin');
    expect((await stat(saved)).size).toBe(FILE_BYTES);
    expect(await sha256Of(saved)).toBe(expected);
    expect(await outcome(page, 30_000)).toBe(`Downloaded random-100mb.bin (100.0 MiB, SHA-256 ${expected}).`);
    await screenshot(page, 'files-round-trip');
    const rate = (ms: number) => `${(ms / 1000).toFixed(1)} s, ${(FILE_BYTES / 1024 / 1024 / (ms / 1000)).toFixed(1)} MiB/s`;
    console.log(`100 MiB through the console: upload ${rate(upMs)}; download ${rate(downMs)}`);
    expect(b.unexpectedErrors()).toEqual([]);
  }, 300_000);

  it('resumes a streamed download cut short from the bytes it has, not from the start', async () => {
    const folder = join(deviceDir, 'resume');
    await mkdir(folder);
    const size = 12 * 1024 * 1024 + 4_321;
    const expected = await randomFile(join(folder, 'random-12mb.bin'), size);
    const cutAt = 5 * 1024 * 1024;
    // The first body ends after 5 MiB, as a connection dropped mid-way leaves it; later ones pass untouched.
    let cut = false;
    const streamed = (url: URL) => url.pathname === DOWNLOAD_PATH;
    await page.route(streamed, async (route) => {
      if (cut) return route.continue();
      cut = true;
      const response = await route.fetch();
      const body = (await response.body()).subarray(0, cutAt);
      await route.fulfill({ response, body, headers: { ...response.headers(), 'content-length': String(body.length) } });
    });
    try {
      await page.goto(`${s.url}/devices/${local.deviceId}?tab=files`);
      await page.getByLabel('Folder', { exact: true }).fill(folder);
      await page.getByRole('button', { name: 'Open folder' }).click();
      const { result: [download], streamOffsets, chunkCalls } = await watchRequests(() => Promise.all([
        page.waitForEvent('download', { timeout: 60_000 }),
        page.getByTestId('files-table').locator('tr', { hasText: 'random-12mb.bin' }).getByRole('button', { name: 'Download' }).click(),
      ]));
      const saved = join(localDir, 'resumed.bin');
      await download.saveAs(saved);
      expect(cut).toBe(true);
      expect(streamOffsets).toEqual([0, cutAt]);
      expect(chunkCalls).toBe(0);
      expect((await stat(saved)).size).toBe(size);
      expect(await sha256Of(saved)).toBe(expected);
      expect(await outcome(page, 30_000)).toBe(`Downloaded random-12mb.bin (12.0 MiB, SHA-256 ${expected}).`);
    } finally {
      await page.unroute(streamed);
    }
    expect(b.unexpectedErrors()).toEqual([]);
  }, 120_000);

  it('resumes an upload whose connection dropped from where the device\'s partial file ends', async () => {
    const folder = join(deviceDir, 'upload-resume');
    await mkdir(folder);
    const size = 12 * 1024 * 1024 + 1_234;
    const source = join(localDir, 'random-12mb-up.bin');
    const expected = await randomFile(source, size);
    // The fifth chunk's connection (at 4 MiB) is reset before it reaches the server, once. By its
    // offset, not by the order the calls are intercepted in: under load that order is not the
    // chunks' order.
    const DROPPED_AT = 4 * 1024 * 1024;
    const chunkCall = (url: URL) => url.pathname === UPLOAD_PATH;
    let chunkCalls = 0;
    let dropped = false;
    await page.route(chunkCall, async (route) => {
      chunkCalls += 1;
      if (!dropped && new URL(route.request().url()).searchParams.get('offset') === String(DROPPED_AT)) {
        dropped = true;
        return route.abort('connectionreset');
      }
      return route.continue();
    });
    const begins: number[] = [];
    const onResponse = async (response: { url(): string; text(): Promise<string> }) => {
      if (!response.url().includes('remote.files.uploadBegin')) return;
      const body = await response.text().catch(() => '');
      begins.push(Number(/"offset":(\d+)/.exec(body)?.[1] ?? -1));
    };
    page.on('response', onResponse);
    try {
      await page.goto(`${s.url}/devices/${local.deviceId}?tab=files`);
      await page.getByLabel('Folder', { exact: true }).fill(folder);
      await page.getByRole('button', { name: 'Open folder' }).click();
      await shown(page.getByText('This folder is empty'));
      await page.getByLabel('File to upload').setInputFiles(source);
      expect(await outcome(page, 60_000)).toBe(`Uploaded random-12mb-up.bin to ${join(folder, 'random-12mb-up.bin')} (12.0 MiB, SHA-256 ${expected}).`);
    } finally {
      page.off('response', onResponse);
      await page.unroute(chunkCall);
    }
    expect(dropped).toBe(true);
    // Begun twice: at 0, then where the device's partial ended: the dropped chunk's offset, since
    // the chunks before it were written in order and those behind it were held, not written.
    expect(begins).toEqual([0, DROPPED_AT]);
    // Not all over again: at most the 12 sent before the failure surfaced (the four acked, the
    // dropped one, the window behind it) and the 9 from the resume point on; from 0 it would be 25.
    expect(chunkCalls).toBeLessThanOrEqual(12 + 9);
    expect((await stat(join(folder, 'random-12mb-up.bin'))).size).toBe(size);
    expect(await sha256Of(join(folder, 'random-12mb-up.bin'))).toBe(expected);
    // The browser logs the reset it was made to see, and nothing else.
    expect(b.takeErrors(/net::ERR_CONNECTION_RESET/)).toHaveLength(1);
    expect(b.unexpectedErrors()).toEqual([]);
  }, 120_000);

  it.skipIf(!unzip)('downloads a folder as a .zip that Info-ZIP unpacks to the same files, links left out', async () => {
    const folder = join(deviceDir, 'zip-me');
    await mkdir(join(folder, 'logs', 'old'), { recursive: true });
    await mkdir(join(folder, 'empty'));
    const expected = await randomFile(join(folder, 'logs', 'old', 'random-3mb.bin'), 3 * 1024 * 1024 + 7);
    await writeFile(join(folder, 'readme.txt'), 'read me\n');
    await symlink('/etc', join(folder, 'etc-link'));
    await page.goto(`${s.url}/devices/${local.deviceId}?tab=files`);
    await page.getByLabel('Folder', { exact: true }).fill(deviceDir);
    await page.getByRole('button', { name: 'Open folder' }).click();
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60_000 }),
      page.getByTestId('files-table').locator('tr', { hasText: 'zip-me' }).getByRole('button', { name: 'Download as .zip' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('zip-me.zip');
    const saved = join(localDir, 'zip-me.zip');
    await download.saveAs(saved);
    expect(await outcome(page, 30_000)).toBe('Downloaded zip-me as zip-me.zip (2 files, 3.0 MiB). Not followed (links and special files): zip-me/etc-link.');
    expect(execFileSync(unzip!, ['-t', saved], { encoding: 'utf8' })).toMatch(/No errors detected/);
    const out = join(localDir, 'unzipped');
    execFileSync(unzip!, ['-q', saved, '-d', out]);
    expect((await readdir(out, { recursive: true })).sort()).toEqual(
      ['zip-me', 'zip-me/empty', 'zip-me/logs', 'zip-me/logs/old', 'zip-me/logs/old/random-3mb.bin', 'zip-me/readme.txt']);
    expect(await sha256Of(join(out, 'zip-me', 'logs', 'old', 'random-3mb.bin'))).toBe(expected);
    expect(await readFile(join(out, 'zip-me', 'readme.txt'), 'utf8')).toBe('read me\n');
    expect(b.unexpectedErrors()).toEqual([]);
  }, 120_000);

  it('uploads a folder the person picks, its tree made on the device and each file equal to the byte', async () => {
    const picked = join(localDir, 'site-config');
    await mkdir(join(picked, 'conf.d', 'extra'), { recursive: true });
    await writeFile(join(picked, 'index.html'), '<h1>hi</h1>\n');
    await writeFile(join(picked, 'conf.d', 'a.conf'), 'a = 1\n');
    const expected = await randomFile(join(picked, 'conf.d', 'extra', 'blob.bin'), 2 * 1024 * 1024 + 3);
    const target = join(deviceDir, 'uploads-here');
    await mkdir(target);
    await page.goto(`${s.url}/devices/${local.deviceId}?tab=files`);
    await page.getByLabel('Folder', { exact: true }).fill(target);
    await page.getByRole('button', { name: 'Open folder' }).click();
    await shown(page.getByText('This folder is empty'));
    await page.getByLabel('Folder to upload').setInputFiles(picked);
    expect(await outcome(page, 60_000)).toBe(`Uploaded site-config to ${join(target, 'site-config')} (3 files, 2.0 MiB).`);
    expect((await readdir(join(target, 'site-config'), { recursive: true })).sort())
      .toEqual(['conf.d', 'conf.d/a.conf', 'conf.d/extra', 'conf.d/extra/blob.bin', 'index.html']);
    expect(await sha256Of(join(target, 'site-config', 'conf.d', 'extra', 'blob.bin'))).toBe(expected);
    expect(await readFile(join(target, 'site-config', 'index.html'), 'utf8')).toBe('<h1>hi</h1>\n');
    await waitFor('the listing to show the folder', async () => (await page.getByTestId('files-table').textContent())?.includes('site-config'), 20_000);
    expect(b.unexpectedErrors()).toEqual([]);
  }, 120_000);

  it('cancelling a download aborts its streamed request', async () => {
    const folder = join(deviceDir, 'resume');
    // The stream's answer is held back, as a slow device's would be, until the person cancels.
    const streamed = (url: URL) => url.pathname === DOWNLOAD_PATH;
    let held: Route | null = null;
    await page.route(streamed, (route) => {
      held = route;
    });
    try {
      await page.goto(`${s.url}/devices/${local.deviceId}?tab=files`);
      await page.getByLabel('Folder', { exact: true }).fill(folder);
      await page.getByRole('button', { name: 'Open folder' }).click();
      await page.getByTestId('files-table').locator('tr', { hasText: 'random-12mb.bin' }).getByRole('button', { name: 'Download' }).click();
      await waitFor('the streamed request', () => Promise.resolve(held !== null), 30_000);
      const failed = page.waitForEvent('requestfailed', { predicate: (request) => new URL(request.url()).pathname === DOWNLOAD_PATH, timeout: 10_000 });
      await page.getByTestId('transfer').getByRole('button', { name: 'Cancel' }).click();
      expect((await failed).failure()?.errorText).toMatch(/ABORTED/);
      await textOf(page.getByRole('alert')).toBe('Downloading random-12mb.bin: cancelled');
      await expect.poll(() => page.getByTestId('transfer').count()).toBe(0);
    } finally {
      await (held as Route | null)?.abort().catch(() => undefined);
      await page.unroute(streamed);
    }
    expect(b.unexpectedErrors()).toEqual([]);
  }, 60_000);

  it('ends a process started for the test from the Processes tab', async () => {
    // A marker no other process has in its command line.
    const marker = `${600_000 + Math.floor(Math.random() * 300_000)}`;
    const sleeper = spawn('sleep', [marker], { stdio: 'ignore' });
    const ended = new Promise<NodeJS.Signals | null>((resolve) => sleeper.once('exit', (_code, signal) => resolve(signal)));
    try {
      await page.goto(`${s.url}/devices/${local.deviceId}?tab=processes`);
      await page.getByLabel('Filter processes').fill(marker);
      const row = page.getByTestId('processes-table').locator(`[data-pid="${sleeper.pid}"]`);
      await shown(row, 30_000);
      expect(await row.textContent()).toContain(`sleep ${marker}`);
      await screenshot(page, 'processes');
      page.once('dialog', (dialog) => void dialog.accept());
      await row.getByRole('button', { name: `End process ${sleeper.pid}` }).click();
      await textOf(page.getByRole('status')).toBe(`Sent SIGTERM to process ${sleeper.pid}.`);
      expect(await Promise.race([ended, new Promise((resolve) => setTimeout(() => resolve('still running'), 10_000))])).toBe('SIGTERM');
      // The list, refreshed, no longer has it.
      await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(0);
      await shown(page.getByText('No process matches this filter'));
      const audit = await s.call<{ action: string; details: Record<string, unknown> }[]>(await s.apiLogin(s.owner), 'audit.list', 'query', { action: 'process.kill' });
      expect(audit.some((entry) => entry.details.pid === sleeper.pid && entry.details.signal === 'SIGTERM')).toBe(true);
    } finally {
      sleeper.kill('SIGKILL');
    }
    expect(b.unexpectedErrors()).toEqual([]);
  }, 60_000);
});
