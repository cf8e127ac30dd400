import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasChromium, logIn, nav, openBrowser, screenshot, shown, startConsoleServer, textOf, type ConsoleBrowser, type ConsoleServer } from './console-support.ts';

interface Received { headers: IncomingHttpHeaders; body: string }

/**
 * An admin connects a PSA in the console, in real Chromium against a real server and a real
 * receiver: creates a webhook with the event picker (the secret shown once), sees the signed
 * delivery of a ticket event in the delivery log, resends it (same event id) and sends a test; a
 * link-local URL is refused with the reason.
 */
describe.skipIf(!hasChromium)('event webhooks in the console', () => {
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  let page: Page;
  let receiver: Server;
  let receiverUrl = '';
  const received: Received[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/psa`;
    // The receiver runs on this machine: the server may post to loopback only when told so.
    const before = process.env.WEBHOOK_ALLOW_PRIVATE;
    process.env.WEBHOOK_ALLOW_PRIVATE = '1';
    try {
      s = await startConsoleServer('web-webhooks');
    } finally {
      if (before === undefined) delete process.env.WEBHOOK_ALLOW_PRIVATE;
      else process.env.WEBHOOK_ALLOW_PRIVATE = before;
    }
    b = await openBrowser();
    page = (await b.person()).page;
  }, 240_000);
  afterAll(async () => {
    await b?.close().catch(() => undefined);
    await s?.stop();
    await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  });

  it('creates a webhook with the event picker, logs its signed deliveries, resends and tests it', async () => {
    await logIn(page, s.url, s.owner);
    await nav(page, 'Webhooks').click();
    await page.getByRole('heading', { name: 'Webhooks', exact: true, level: 1 }).waitFor();

    await page.getByLabel('Name').fill('Metadata');
    await page.getByLabel('Receiver URL').fill('http://169.254.169.254/latest');
    await page.getByLabel('A ticket was opened').check();
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await shown(page.getByText(/link-local, metadata or reserved/));

    await page.getByLabel('Name').fill('PSA');
    await page.getByLabel('Receiver URL').fill(receiverUrl);
    await page.getByRole('button', { name: 'Create webhook' }).click();
    const secretShown = page.getByTestId('new-webhook-secret');
    await shown(secretShown);
    const secret = (await secretShown.textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);

    const session = await s.apiLogin(s.owner);
    await s.call(session, 'tickets.create', 'mutation', { title: 'Printer on fire', priority: 'urgent' });
    await expect.poll(() => received.length, { timeout: 20_000 }).toBe(1);
    const first = received[0]!;
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(first.headers['x-ninjait-signature']))!;
    expect(createHmac('sha256', secret).update(`${t}.${first.body}`).digest('hex')).toBe(v1);
    expect(JSON.parse(first.body)).toMatchObject({ type: 'ticket.created', data: { ticket: { title: 'Printer on fire' } } });

    await page.getByRole('button', { name: 'Deliveries of PSA' }).click();
    const log = page.getByRole('table', { name: 'Deliveries of PSA' });
    await textOf(log.getByRole('row').nth(1)).toMatch(/ticket\.created.*Delivered.*204/);
    await page.getByRole('button', { name: `Resend event ${String(first.headers['x-ninjait-event'])}` }).first().click();
    await expect.poll(() => received.length, { timeout: 20_000 }).toBe(2);
    expect(received[1]!.headers['x-ninjait-event']).toBe(first.headers['x-ninjait-event']);
    expect(received[1]!.body).toBe(first.body);

    await page.getByRole('button', { name: 'Send test to PSA' }).click();
    await shown(page.getByText('Test delivered (HTTP 204).'));
    expect(JSON.parse(received[2]!.body)).toMatchObject({ type: 'webhook.test' });
    await expect.poll(async () => log.getByRole('row').count(), { timeout: 20_000 }).toBe(4);
    await screenshot(page, 'webhooks');
    expect(b.unexpectedErrors()).toEqual([]);
  }, 120_000);
});
