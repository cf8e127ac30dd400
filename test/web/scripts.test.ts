import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { fakeInventory } from '@ninjait/server/testing';
import { hasChromium, logIn, nav, openBrowser, screenshot, shown, startConsoleServer, type ConsoleBrowser, type ConsoleServer } from './console-support.ts';

/**
 * An admin saves a script with a parameter in the console (real Chromium, real server), runs it
 * on every device with a value typed in the run form, sees the result per device, edits it into
 * a second version, and adds a schedule: a bad cron expression is refused with the reason, a
 * good one shows its next run.
 */
describe.skipIf(!hasChromium)('script library in the console', () => {
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  let page: Page;
  let owner = '';
  const HOST = 'script-host-01';

  beforeAll(async () => {
    s = await startConsoleServer('web-scripts');
    owner = await s.apiLogin(s.owner);
    const { token } = await s.call<{ token: string }>(owner, 'tokens.create', 'mutation', { name: 'Servers', maxUses: 1 });
    await s.call('', 'agent.enroll', 'mutation', { token, inventory: fakeInventory(`scripts-${Date.now()}`, HOST) });
    b = await openBrowser();
    page = (await b.person()).page;
  }, 240_000);
  afterAll(async () => {
    await b?.close().catch(() => undefined);
    await s?.stop();
  });

  it('saves, runs with a parameter, versions and schedules a script', async () => {
    await logIn(page, s.url, s.owner);
    await nav(page, 'Scripts').click();
    await page.getByRole('heading', { name: 'Scripts', exact: true, level: 1 }).waitFor();

    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Say hello');
    await page.getByLabel('Script', { exact: true }).fill('echo "$NINJAIT_PARAM_GREETING from $(hostname)"');
    await page.getByLabel(/^Parameters/).fill('greeting:string:hello');
    await page.getByRole('button', { name: 'Save script' }).click();
    await page.getByRole('button', { name: 'Open Say hello' }).click();

    await page.getByLabel('greeting').fill('"; reboot; echo "');
    await page.getByRole('button', { name: 'Run now' }).click();
    await shown(page.getByText('Started on 1 device(s).'));
    await shown(page.getByTestId('run-results').getByRole('row').filter({ hasText: HOST }));
    const runs = await s.call<{ bulkJobId: string }[]>(owner, 'scripts.runs.list', 'query', {});
    await expect.poll(async () => (await s.call<{ targets: { commandId: string | null }[] }>(owner, 'jobs.status', 'query', { id: runs[0]!.bulkJobId })).targets[0]?.commandId ?? null, { timeout: 20_000 }).not.toBeNull();

    await page.getByRole('button', { name: 'Edit (saves a new version)' }).click();
    await page.getByLabel('Script text').fill('echo "$NINJAIT_PARAM_GREETING again"');
    await page.getByRole('button', { name: 'Save new version' }).click();
    await shown(page.getByText('"Say hello" — version 2'));

    await page.getByPlaceholder('e.g. Nightly cleanup').fill('Every morning');
    await page.getByLabel(/^When/).fill('0 25 * * *');
    await page.getByLabel('Time zone').fill('Europe/Berlin');
    await page.getByRole('button', { name: 'Add schedule' }).click();
    await shown(page.getByText(/Invalid cron expression/));
    await page.getByLabel(/^When/).fill('0 7 * * 1-5');
    await page.getByRole('button', { name: 'Add schedule' }).click();
    const row = page.getByRole('table', { name: 'Schedules' }).getByRole('row').filter({ hasText: 'Every morning' });
    await shown(row);
    expect(await row.textContent()).toContain('0 7 * * 1-5 (Europe/Berlin)');
    expect(await row.textContent()).not.toContain('paused');
    await screenshot(page, 'scripts');
  }, 120_000);
});
