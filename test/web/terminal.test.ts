import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import {
  hasChromium, ownerAtLocalDevice, screenshot, shown,
  type ConsoleBrowser, type ConsoleServer, type LocalAgent, type OwnerAtDevice,
} from './console-support.ts';

/**
 * The text xterm.js shows, row by row: its DOM renderer draws one element per row of the
 * buffer's viewport (the console loads no canvas or WebGL renderer).
 */
// (Typed by hand: this file is compiled without the DOM's types.)
const screenOf = (rows: Locator) => rows.evaluate((element: { children: ArrayLike<{ textContent: string | null }> }) =>
  Array.from(element.children, (row) => (row.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).join('\n'));

/** Polls the screen until `pattern` shows; the failure names what was on screen instead. */
async function untilScreen(rows: Locator, pattern: RegExp, timeout = 20_000): Promise<RegExpExecArray> {
  let last = '';
  try {
    await expect.poll(async () => {
      last = await screenOf(rows).catch(() => '');
      return pattern.test(last);
    }, { timeout, message: `${pattern} on the terminal screen` }).toBe(true);
  } catch (error) {
    throw new Error(`${pattern} did not show on the terminal screen within ${timeout} ms; it showed:\n${last}`, { cause: error });
  }
  return pattern.exec(last)!;
}

/**
 * A terminal on the device page in real Chromium, on this machine's real agent (a real pty):
 * `top` draws full screen, the pty follows the browser window's size, Ctrl-C stops the
 * foreground program and the prompt comes back, and the session's recording replays in the
 * console with what was on screen.
 */
describe.skipIf(!hasChromium)('the terminal in the console', () => {
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  let local: LocalAgent;
  let page: Page;

  let owner: OwnerAtDevice | undefined;

  beforeAll(async () => {
    owner = await ownerAtLocalDevice('web-terminal', 'terminal test');
    ({ s, b, local, page } = owner);
  }, 180_000);
  afterAll(() => owner?.stop());

  it('draws top, follows the window size, stops top with Ctrl-C, and replays the recording', async () => {
    await page.goto(`${s.url}/devices/${local.deviceId}?tab=shell`);
    await page.getByLabel('Terminal shell').selectOption('bash');
    await page.getByRole('button', { name: 'Open terminal' }).click();
    await shown(page.getByRole('button', { name: 'Close terminal' }));
    const rows = page.locator('.xterm-host .xterm-rows');
    const type = async (line: string) => {
      await page.keyboard.type(line);
      await page.keyboard.press('Enter');
    };
    // A pty, not the piped fallback (which says so above the terminal).
    expect(await page.getByText('This device has no pseudo-terminal').count()).toBe(0);

    // Keys typed before the shell has started (a slow machine) may reach nobody: wait for its prompt.
    await untilScreen(rows, /[$#]$/m, 30_000);
    await type('stty size; echo "size-""shown"');
    const [, rowsBefore, colsBefore] = await untilScreen(rows, /^(\d+) (\d+)\nsize-shown$/m);
    expect(Number(colsBefore)).toBeGreaterThan(80);

    await type('top -d 1');
    await untilScreen(rows, /load average[\s\S]*PID\s+USER/);
    await screenshot(page, 'terminal-top');

    // A narrower window: the panel refits, the pty is resized, top redraws for the new width.
    await page.setViewportSize({ width: 760, height: 900 });
    await untilScreen(rows, /load average[\s\S]*PID\s+USER/);
    await page.keyboard.press('Control+C');
    await type('stty size; echo "after-""top"');
    const [, rowsAfter, colsAfter] = await untilScreen(rows, /^(\d+) (\d+)\nafter-top$/m);
    expect(Number(colsAfter)).toBeLessThan(Number(colsBefore));
    // The panel's height is fixed: only the width followed the window.
    expect(rowsAfter).toBe(rowsBefore);

    // Ctrl-C reaches a foreground job that is not full screen too.
    const started = Date.now();
    await type('sleep 100; echo "slept-""through"');
    await page.waitForTimeout(500);
    await page.keyboard.press('Control+C');
    await type('echo "prompt-$((40 + 2))"');
    await untilScreen(rows, /^prompt-42$/m);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await screenOf(rows)).not.toContain('slept-through');
    await screenshot(page, 'terminal-after-ctrl-c');

    await page.getByRole('button', { name: 'Close terminal' }).click();
    await shown(page.getByRole('button', { name: 'Open terminal' }));

    // The recording, replayed in the console, shows what the terminal showed.
    await page.getByRole('button', { name: 'Recorded sessions' }).click();
    const recording = page.locator('.recordings li').filter({ hasText: s.owner.email });
    await shown(recording);
    await recording.first().getByRole('button', { name: 'Replay' }).click();
    const replay = page.locator('[aria-label="Recording replay"] .xterm-rows');
    await untilScreen(replay, /^prompt-42$/m, 45_000);
    expect(await screenOf(replay)).toMatch(new RegExp(`^${rowsAfter} ${colsAfter}\\nafter-top$`, 'm'));
    await screenshot(page, 'terminal-replay');
    expect(b.unexpectedErrors()).toEqual([]);
  }, 120_000);
});
