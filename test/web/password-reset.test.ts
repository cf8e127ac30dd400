import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver, type ReceivedMail, type SmtpReceiver } from '@ninjait/server/testing';
import { waitFor } from '../support/processes.ts';
import { hasChromium, logIn, openBrowser, screenshot, shown, startConsoleServer, type ConsoleBrowser, type ConsoleServer } from './console-support.ts';

const DANA = { email: 'dana@corp.test', password: 'the-first-password-of-dana' };
const NEW_PASSWORD = 'dana-chose-this-new-one';

/** The mail's text without quoted-printable's soft line breaks and escapes. */
const mailText = (mail: ReceivedMail) => mail.raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_all, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/**
 * Password reset by email in real Chromium against a real server and a real SMTP server process:
 * "Forgot your password?" answers the same for a known and an unknown email, only the known one
 * gets a mail; its link opens the reset page, sets the password once, ends every session of the
 * person, and the new password logs in.
 */
describe.skipIf(!hasChromium)('password reset by email', () => {
  let smtp: SmtpReceiver;
  let s: ConsoleServer;
  let b: ConsoleBrowser;
  let ownerToken = '';

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    s = await startConsoleServer('web-reset', { env: (url) => ({ SMTP_URL: smtp.url, PUBLIC_URL: url, SMTP_FROM: 'NinjaIT <noreply@corp.test>' }) });
    b = await openBrowser();
    ownerToken = await s.apiLogin(s.owner);
    await s.call(ownerToken, 'users.create', 'mutation', { ...DANA, role: 'technician' });
  }, 240_000);
  afterAll(async () => {
    await b?.close().catch(() => undefined);
    await s?.stop();
    await smtp?.stop();
  });

  /** Asks for a link on the login page; the page's answer does not say whether the email has an account. */
  async function askForLink(email: string): Promise<string> {
    const { page } = await b.person();
    await page.goto(`${s.url}/login`);
    await page.getByRole('button', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Your email').fill(email);
    await page.getByRole('button', { name: 'Email me a reset link' }).click();
    const answer = page.getByRole('status');
    await shown(answer);
    return (await answer.textContent())!.replace(email, '<email>');
  }

  it('mails a link to a known email only, with the same answer for both', async () => {
    const sessionBefore = await s.apiLogin(DANA);
    const unknown = await askForLink('nobody@corp.test');
    const known = await askForLink(DANA.email);
    expect(known).toBe(unknown);
    const mail = await waitFor('the reset mail', async () => smtp.messages.find((message) => message.to.includes(DANA.email)) ?? null, 30_000);
    // Whatever was sent for the unknown email would have arrived by now, in order.
    expect(smtp.messages.map((message) => message.to).flat()).toEqual([DANA.email]);
    const link = /(http:\/\/\S+\/reset-password#token=pr_[A-Za-z0-9_-]{43})/.exec(mailText(mail))?.[1];
    expect(link).toBeDefined();

    const { page } = await b.person();
    await page.goto(link!);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await shown(page.getByText('Your password is changed'));
    await screenshot(page, 'password-reset-01-done');

    // Every session dana had ended; the old password is refused; the link works once.
    await expect(s.call(sessionBefore, 'auth.me', 'query')).rejects.toThrow(/Log in first/);
    await expect(s.apiLogin(DANA)).rejects.toThrow(/Wrong email or password/);
    const { page: again } = await b.person();
    await again.goto(link!);
    await again.getByLabel('New password', { exact: true }).fill('yet-another-password');
    await again.getByLabel('New password again').fill('yet-another-password');
    await again.getByRole('button', { name: 'Set new password' }).click();
    await shown(again.getByText('This reset link does not work any more'));

    const { page: login } = await b.person();
    await logIn(login, s.url, { email: DANA.email, password: NEW_PASSWORD });
    const entries = await s.call<{ action: string }[]>(ownerToken, 'audit.list', 'query', { limit: 50 });
    expect(entries.map((entry) => entry.action)).toEqual(expect.arrayContaining(['auth.password_reset_requested', 'auth.password_reset']));
  }, 120_000);

  it('limits how often one email can ask', async () => {
    const ask = () => s.call(ownerToken, 'auth.requestPasswordReset', 'mutation', { email: 'flood@corp.test' });
    for (let i = 0; i < 3; i += 1) await ask();
    await expect(ask()).rejects.toThrow(/Too many reset requests/);
  });
});
