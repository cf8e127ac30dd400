import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { AGENT_CLI, REPO_ROOT, SERVER_CLI, freePort, runCli, startCli, waitFor, type Proc } from '../support/processes.ts';

/**
 * What the console's browser tests share: a real server started as `npm start` starts it (embedded
 * stores, first-run owner), real Chromium, one isolated browser context per person, and the
 * waits playwright-core lacks (it has no `expect`).
 */
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(REPO_ROOT, 'test', 'artifacts', 'web');
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`${CHROMIUM} is missing: skipping the browser tests (run .ci/start-chromium.sh to install it)`);

export interface Account { email: string; password: string }

export interface ConsoleServer {
  url: string;
  dir: string;
  /** The first-run owner `start` printed: an owner of the install's own organization. */
  owner: Account;
  server: Proc;
  /** Runs `ninjait <args>` against this server's data directory. */
  cli(args: string[], env?: Record<string, string>): Promise<string>;
  /** A program's session (bearer token) for setting up data through the API. */
  apiLogin(account: Account): Promise<string>;
  /** One tRPC call over HTTP as a program; throws with the server's message. */
  call<T>(token: string, path: string, type: 'query' | 'mutation', input?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/** Builds the console if needed, starts a server on a free port and waits for its first-run login. */
export async function startConsoleServer(prefix: string, options: { env?: (url: string) => Record<string, string> } = {}): Promise<ConsoleServer> {
  await mkdir(ARTIFACTS, { recursive: true });
  const build = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs'), '--if-stale', 'web'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (build.status !== 0 || !existsSync(join(REPO_ROOT, 'web/dist/index.html'))) throw new Error(`web build failed:\n${build.stdout}${build.stderr}`);
  const dir = await mkdtemp(join(tmpdir(), `ninjait-${prefix}-`));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // No agent package build: a bundle, .deb and .rpm built and signed beside every console test's
  // server cost more CPU than most of these tests, and none of them looks at install lines
  // (console.test.ts and install-lines.test.ts do, with a listed package or the real build).
  const server = startCli(SERVER_CLI, ['start', '--no-agent', '--no-packages'], {
    PORT: String(port), DATA_DIR: join(dir, 'server'), LOG_LEVEL: 'warn',
    // One person clicks through every page; the default 100 calls per 15 min is for production.
    RATE_LIMIT_MAX: '100000',
    // What a test adds (SMTP_URL, PUBLIC_URL), knowing the server's address.
    ...options.env?.(url),
  });
  const stop = async () => {
    await server.kill('SIGKILL');
    // A killed server's last writes may still land while the folder goes: retry what ENOTEMPTY refuses.
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  };
  try {
    const owner = await waitFor('the first-run login', async () => {
      if (server.child.exitCode !== null) throw new Error(`server exited:\n${server.output()}`);
      const match = /Log in at \S+ as (\S+) with password: (\S+)/.exec(server.stdout());
      return match ? { email: match[1]!, password: match[2]! } : null;
    }, 150_000, 250);
    const call = async <T>(token: string, path: string, type: 'query' | 'mutation', input?: unknown): Promise<T> => {
      const target = new URL(`${url}/trpc/${path}`);
      if (type === 'query' && input !== undefined) target.searchParams.set('input', JSON.stringify(input));
      const res = await fetch(target, {
        method: type === 'query' ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(type === 'mutation' && input !== undefined ? { body: JSON.stringify(input) } : {}),
      });
      const body = (await res.json()) as { result?: { data: T }; error?: { message: string } };
      if (body.error) throw new Error(`${path}: ${body.error.message}`);
      return body.result!.data;
    };
    describeOnFailure(undefined, () => server.output());
    return {
      url, dir, owner, server, call, stop,
      cli: (args, env = {}) => runCli(SERVER_CLI, [...args, '--server', url, '--data-dir', join(dir, 'server')], env),
      apiLogin: async (account) => (await call<{ sessionToken: string }>('', 'auth.login', 'mutation', account)).sessionToken,
    };
  } catch (error) {
    const output = server.output();
    await stop();
    throw new Error(`${(error as Error).message}\n${output}`);
  }
}

/** The real agent of this machine, enrolled in a console server's first organization. */
export interface LocalAgent { deviceId: string; agent: Proc; stop(): Promise<void> }

/**
 * Enrolls this machine's agent (the built `ninjait-agent`, in a data folder of the server's temp
 * folder) with a token the owner makes, runs it, and waits until the server relays requests to
 * it: what the terminal, files and processes tabs need.
 */
export async function startLocalAgent(s: ConsoleServer, ownerToken: string, name = 'local agent'): Promise<LocalAgent> {
  const { token } = await s.call<{ token: string }>(ownerToken, 'tokens.create', 'mutation', { name, maxUses: 1 });
  const dataDir = join(s.dir, `agent-${Date.now().toString(36)}`);
  await runCli(AGENT_CLI, ['enroll', '--server', s.url, '--token', token, '--data-dir', dataDir]);
  const { deviceId } = JSON.parse(await readFile(join(dataDir, 'agent.json'), 'utf8')) as { deviceId: string };
  const agent = startCli(AGENT_CLI, ['run', '--data-dir', dataDir, '--interval-ms', '1000']);
  await waitFor('the agent to answer the server', async () => {
    if (agent.child.exitCode !== null) throw new Error(`agent exited:\n${agent.output()}`);
    return (await s.call<{ processes: unknown[] }>(ownerToken, 'remote.processes.list', 'query', { deviceId }).catch(() => null))?.processes.length;
  }, 60_000, 500);
  return { deviceId, agent, stop: async () => void (await agent.kill('SIGKILL')) };
}

/** Chromium logs every refused request (a wrong password's 401, a conflict's 409) as a console error. */
const REFUSED_REQUEST = /Failed to load resource: the server responded with a status of 4\d\d/;

/** Chromium, with console errors of every page collected (a page that logs one fails its test file). */
export interface ConsoleBrowser {
  browser: Browser;
  errors: string[];
  /** Console errors other than refused requests: there should be none. */
  unexpectedErrors(): string[];
  /** How many requests the server refused: a test provokes each on purpose, and counts them. */
  refusedRequests(): number;
  /** Takes the errors matching `pattern` off the list and returns them: for a test that provokes them on purpose. */
  takeErrors(pattern: RegExp): string[];
  /** A fresh context (its own cookies): one person. */
  person(): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

export async function openBrowser(): Promise<ConsoleBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.setDefaultTimeout(20_000);
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`${page.url()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
  };
  return {
    browser,
    errors,
    unexpectedErrors: () => errors.filter((error) => !REFUSED_REQUEST.test(error)),
    refusedRequests: () => errors.filter((error) => REFUSED_REQUEST.test(error)).length,
    takeErrors(pattern) {
      const taken = errors.filter((error) => pattern.test(error));
      errors.splice(0, errors.length, ...errors.filter((error) => !pattern.test(error)));
      return taken;
    },
    async person() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Europe/Paris', locale: 'en-US' });
      context.on('page', watch);
      const page = await context.newPage();
      describeOnFailure(page);
      return { context, page };
    },
    close: () => browser.close(),
  };
}

/** Waits until the locator's first match is visible. */
export const shown = (locator: Locator, timeout?: number) => locator.first().waitFor({ state: 'visible', ...(timeout ? { timeout } : {}) });

/** Polls the locator's text with vitest's expect. */
export const textOf = (locator: Locator, timeout = 20_000) => expect.poll(async () => (await locator.first().textContent())?.trim() ?? '', { timeout });

export const nav = (page: Page, name: string | RegExp) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: typeof name === 'string' });

export async function logIn(page: Page, url: string, account: Account): Promise<void> {
  await page.goto(`${url}/login`);
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
}

/**
 * Keeps a picture of the page in test/artifacts/web for people to look at. A picture is not what a
 * test checks: one that times out on a loaded machine (a full-page capture waits for the page to
 * render, and CI once took over 20 s) is reported and skipped instead of failing the test.
 */
export async function screenshot(page: Page, name: string, dir = ARTIFACTS): Promise<void> {
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true })
    .catch((error: Error) => console.warn(`screenshot ${name} not kept: ${error.message.split('\n', 1)[0]}`));
}

/** Characters of a failed test's page text and lines of its server's output printed. */
const FAILED_PAGE_TEXT = 2_000;
const FAILED_SERVER_LINES = 40;

/** This test file's open pages and servers: what a failed test is described by (see below). */
const witnesses = { pages: new Set<Page>(), serverOutputs: new Set<() => string>() };

/** Adds a page and its server's output to what a failure of this file describes (openBrowser and startConsoleServer add theirs). */
export function describeOnFailure(page?: Page, serverOutput?: () => string): void {
  if (page) witnesses.pages.add(page);
  if (serverOutput) witnesses.serverOutputs.add(serverOutput);
}

/**
 * When any test of a file that imports this module fails, prints what each of its open pages
 * showed (address, visible text) and the end of its servers' output, and keeps a screenshot as
 * `FAILED-<test>-<n>.png`: a failure on CI is diagnosed from its log, since it cannot be watched
 * again. Registered on import, for the importing file's tests (each browser test file runs in a
 * module graph of its own).
 */
beforeEach(({ task, onTestFailed }) => {
  onTestFailed(async () => {
    const name = task.name.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 80);
    const pages = [...witnesses.pages].filter((page) => !page.isClosed());
    for (const [index, page] of pages.entries()) {
      // The page's own content, not the navigation beside it on every page.
      const content = (await page.locator('main').count().catch(() => 0)) > 0 ? page.locator('main').first() : page.locator('body');
      const seen = await content.innerText({ timeout: 5_000 }).catch((error: Error) => `(page unreadable: ${error.message})`);
      await screenshot(page, `FAILED-${name}-${index + 1}`);
      console.log(`"${task.name}" failed; page ${index + 1} of ${pages.length} was at ${page.url()} and showed:\n${seen.slice(0, FAILED_PAGE_TEXT)}`);
    }
    for (const output of witnesses.serverOutputs) {
      console.log(`"${task.name}" failed; the server's last output:\n${output().trimEnd().split('\n').slice(-FAILED_SERVER_LINES).join('\n')}`);
    }
  });
});

/** A console server, a real agent of this machine enrolled into it, and the owner logged in in Chromium. */
export interface OwnerAtDevice { s: ConsoleServer; b: ConsoleBrowser; local: LocalAgent; page: Page; stop(): Promise<void> }

/** What the device-page tests (terminal, files) start with: every part stopped by `stop`, even after a failed start. */
export async function ownerAtLocalDevice(prefix: string, agentName: string): Promise<OwnerAtDevice> {
  const parts: Partial<OwnerAtDevice> = {};
  const stop = async () => {
    await parts.b?.close().catch(() => undefined);
    await parts.local?.stop();
    await parts.s?.stop();
  };
  try {
    parts.s = await startConsoleServer(prefix);
    parts.b = await openBrowser();
    parts.local = await startLocalAgent(parts.s, await parts.s.apiLogin(parts.s.owner), agentName);
    ({ page: parts.page } = await parts.b.person());
    await logIn(parts.page, parts.s.url, parts.s.owner);
  } catch (error) {
    await stop();
    throw error;
  }
  return { s: parts.s, b: parts.b, local: parts.local, page: parts.page, stop };
}
