import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCUntypedClient, createWSClient, wsLink } from '@trpc/client';
import { WebSocket } from 'ws';
import { fakeInventory, fakeSampleRecord } from '@ninjait/server/testing';
import { waitFor } from '../support/processes.ts';
import { hasChromium, logIn, nav, openBrowser, screenshot, shown, startConsoleServer, type ConsoleBrowser, type ConsoleServer } from './console-support.ts';

interface AlertRow { id: string; state: string; title: string; deviceId: string }
interface AuditEntry { action: string; userId: string | null; details: Record<string, unknown> }

/**
 * The alerts inbox and the fleet table's bulk tags in real Chromium against a real server: a rule
 * that a device's pushed sample meets opens an alert; a technician acknowledges it, then resolves
 * it, in the console, and the API and the audit log agree. An admin then tags two devices at once
 * from the Devices list and sees the tag on both rows, and removes it again.
 */
describe.skipIf(!hasChromium)('alerts and bulk tags in the console', () => {
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  let ownerToken: string;
  const TECH = { email: 'tess@alerts.test', password: `Tech-${randomBytes(6).toString('hex')}-pass` };
  const HOSTS = ['alerts-web-01', 'alerts-web-02', 'alerts-db-01'];
  const devices: { id: string; secret: string }[] = [];
  const sockets: ReturnType<typeof createWSClient>[] = [];

  beforeAll(async () => {
    s = await startConsoleServer('web-alerts');
    b = await openBrowser();
    ownerToken = await s.apiLogin(s.owner);
    await s.call(ownerToken, 'users.create', 'mutation', { ...TECH, role: 'technician', name: 'Tess' });
    for (const host of HOSTS) {
      const { token } = await s.call<{ token: string }>(ownerToken, 'tokens.create', 'mutation', { name: `alerts ${host}`, maxUses: 1 });
      const enrolled = await s.call<{ deviceId: string; deviceSecret: string }>('', 'agent.enroll', 'mutation', { token, inventory: fakeInventory(`alerts-${host}-${randomBytes(4).toString('hex')}`, host) });
      devices.push({ id: enrolled.deviceId, secret: enrolled.deviceSecret });
    }
  }, 120_000);
  afterAll(async () => {
    for (const socket of sockets) await socket.close();
    await b?.close().catch(() => undefined);
    await s?.stop();
  });

  it('a technician acknowledges, then resolves, an alert a pushed sample opened', async () => {
    await s.call(ownerToken, 'alertRules.create', 'mutation', {
      name: 'CPU very busy', severity: 'critical', condition: { kind: 'metric', metric: 'cpu', op: '>', threshold: 90, forSec: 0 },
    });
    // The first device's agent reports 97 % CPU once, over the agents' own WebSocket.
    const socket = createWSClient({
      url: `${s.url.replace(/^http/, 'ws')}/trpc`, WebSocket: WebSocket as never,
      connectionParams: { deviceId: devices[0]!.id, deviceSecret: devices[0]!.secret }, retryDelayMs: () => 60_000,
    });
    sockets.push(socket);
    const agent = createTRPCUntypedClient({ links: [wsLink({ client: socket })] });
    await agent.mutation('agent.heartbeat', { agentVersion: '0.1.0', intervalMs: 15_000, bufferedRecords: 0, bufferedBytes: 0, droppedTotal: 0 });
    await agent.mutation('agent.push', { records: [fakeSampleRecord(1, Date.now(), 97)] });
    const alert = await waitFor('the CPU alert to open', async () => {
      const open = await s.call<AlertRow[]>(ownerToken, 'alerts.list', 'query', { state: 'open' });
      return open.find((a) => a.deviceId === devices[0]!.id);
    }, 30_000, 250);

    const { page } = await b.person();
    await logIn(page, s.url, TECH);
    await nav(page, 'Alerts').click();
    await page.getByRole('heading', { name: 'Alerts' }).waitFor();
    const table = page.getByTestId('alerts-table');
    const row = table.getByTestId('alert-row').filter({ hasText: HOSTS[0]! });
    await shown(row);
    expect(await row.getAttribute('data-state')).toBe('open');
    expect(await row.textContent()).toContain(alert.title);
    // A technician may act, but not manage rules.
    expect(await page.getByRole('link', { name: 'Rules, channels and maintenance' }).count()).toBe(0);

    await row.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    // The inbox shows open alerts: an acknowledged one leaves it; "Any" shows it acknowledged.
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(0);
    await page.getByLabel('State').selectOption({ label: 'Any' });
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 20_000 }).toBe('acknowledged');
    expect(await row.getByRole('button', { name: 'Acknowledge', exact: true }).count()).toBe(0);
    expect((await s.call<AlertRow>(ownerToken, 'alerts.get', 'query', { id: alert.id })).state).toBe('acknowledged');

    await row.getByRole('button', { name: 'Resolve', exact: true }).click();
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 20_000 }).toBe('resolved');
    await shown(row.getByText('Resolved'));
    expect(await row.getByRole('button').count()).toBe(0);
    expect((await s.call<AlertRow>(ownerToken, 'alerts.get', 'query', { id: alert.id })).state).toBe('resolved');
    await screenshot(page, 'alerts-resolved');

    const me = await s.call<{ userId: string }>(await s.apiLogin(TECH), 'auth.me', 'query');
    for (const action of ['alert.acknowledge', 'alert.resolve']) {
      const entries = await s.call<AuditEntry[]>(ownerToken, 'audit.list', 'query', { action });
      expect(entries, action).toEqual([expect.objectContaining({ action, userId: me.userId, details: expect.objectContaining({ ids: [alert.id], changed: 1 }) })]);
    }
    expect(b.unexpectedErrors()).toEqual([]);
  }, 90_000);

  it('an owner adds a script-check rule from the rule form', async () => {
    const script = await s.call<{ id: string }>(ownerToken, 'scripts.create', 'mutation', { name: 'Service health', language: 'shell', targetOs: ['linux'], body: 'echo OK' });
    const { page } = await b.person();
    await logIn(page, s.url, s.owner);
    await nav(page, 'Alerts').click();
    await page.getByRole('link', { name: 'Rules, channels and maintenance' }).click();
    const form = page.getByRole('form', { name: 'New rule' });
    await shown(form);
    await form.getByLabel('Name').fill('Health check');
    await form.getByLabel('Watch').selectOption({ label: 'Script check' });
    await form.getByRole('combobox', { name: /^Script/ }).selectOption({ label: 'Service health' });
    await form.getByLabel('Fails when').selectOption({ label: 'Output does not match' });
    await form.getByLabel('Pattern (regular expression)').fill('^OK');
    await form.getByLabel('Every minutes').fill('10');
    await form.getByRole('button', { name: 'Add rule' }).click();
    const rule = await waitFor('the rule', async () => (await s.call<{ name: string; condition: unknown }[]>(ownerToken, 'alertRules.list', 'query')).find((r) => r.name === 'Health check'), 20_000, 250);
    expect(rule.condition).toEqual({ kind: 'script', scriptId: script.id, everySec: 600, timeoutSec: 60, output: { op: '!~', pattern: '^OK', ignoreCase: false } });
    // A pattern that can backtrack exponentially is refused with the reason, and no rule is made.
    await form.getByLabel('Name').fill('Bad pattern');
    await form.getByLabel('Pattern (regular expression)').fill('(a+)+$');
    await form.getByRole('button', { name: 'Add rule' }).click();
    await shown(page.getByText(/exponential time/));
    expect((await s.call<{ name: string }[]>(ownerToken, 'alertRules.list', 'query')).map((r) => r.name)).not.toContain('Bad pattern');
    expect(b.unexpectedErrors()).toEqual([]);
  }, 60_000);

  it('an admin tags two devices at once from the Devices list, and removes the tag again', async () => {
    await s.call(ownerToken, 'fleet.tags.create', 'mutation', { name: 'web servers' });
    const { page } = await b.person();
    await logIn(page, s.url, s.owner);
    await nav(page, 'Devices').click();
    const table = page.getByRole('table', { name: 'Devices' });
    const rowOf = (host: string) => table.getByRole('row').filter({ hasText: host });
    await shown(rowOf(HOSTS[2]!));

    await rowOf(HOSTS[0]!).getByLabel(`Select ${HOSTS[0]}`).check();
    await rowOf(HOSTS[1]!).getByLabel(`Select ${HOSTS[1]}`).check();
    const bar = page.getByRole('region', { name: 'Selected devices' });
    await shown(bar.getByText('2 selected'));
    await bar.getByRole('button', { name: 'Tags…' }).click();
    const form = bar.getByRole('form', { name: 'Tag the selected devices' });
    await form.getByLabel('Tag').selectOption({ label: 'web servers' });
    await form.getByRole('button', { name: 'Add tag to 2' }).click();
    await shown(form.getByRole('status').filter({ hasText: 'Tag "web servers" added to 2 of 2 device(s).' }));

    const tagsOf = (host: string) => rowOf(host).getByTestId('device-tags');
    await expect.poll(async () => (await tagsOf(HOSTS[0]!).count()) && tagsOf(HOSTS[0]!).textContent(), { timeout: 20_000 }).toBe('Tags: web servers');
    await expect.poll(async () => (await tagsOf(HOSTS[1]!).count()) && tagsOf(HOSTS[1]!).textContent(), { timeout: 20_000 }).toBe('Tags: web servers');
    expect(await tagsOf(HOSTS[2]!).count()).toBe(0);
    await screenshot(page, 'devices-bulk-tagged');

    // The server agrees, and the filter by that tag shows exactly those two.
    const tags = await s.call<{ id: string; name: string; devices: number }[]>(ownerToken, 'fleet.tags.list', 'query');
    expect(tags).toEqual([expect.objectContaining({ name: 'web servers', devices: 2 })]);
    const added = await s.call<AuditEntry[]>(ownerToken, 'audit.list', 'query', { action: 'device.tags_added' });
    expect(added).toEqual([expect.objectContaining({ details: expect.objectContaining({ count: 2, changed: 2, tagIds: [tags[0]!.id] }) })]);

    // Still selected: remove the tag from both in one go.
    await form.getByRole('button', { name: 'Remove tag from 2' }).click();
    await shown(form.getByRole('status').filter({ hasText: 'Tag "web servers" removed from 2 of 2 device(s).' }));
    await expect.poll(() => table.getByTestId('device-tags').count(), { timeout: 20_000 }).toBe(0);
    expect((await s.call<{ devices: number }[]>(ownerToken, 'fleet.tags.list', 'query'))[0]!.devices).toBe(0);
    expect(b.unexpectedErrors()).toEqual([]);
  }, 60_000);
});
