import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface OidcTestPerson {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
}

export interface OidcTestProvider {
  /** http://localhost:<port>: what an organization's SSO settings name as the issuer. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** What the provider printed on stderr, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts a real OpenID Connect provider in a child process (test/support/oidc-provider-process.mjs)
 * with one client registered for `redirectUri` and the given people, by login name.
 */
export async function startOidcProvider(redirectUri: string, people: Record<string, OidcTestPerson>): Promise<OidcTestProvider> {
  const clientId = 'ninjait-console';
  const clientSecret = 'a-test-client-secret-that-is-long-enough-0123456789';
  const child = spawn(process.execPath, [fileURLToPath(new URL('./oidc-provider-process.mjs', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test', OIDC_TEST_CONFIG: JSON.stringify({ clientId, clientSecret, redirectUri, people }) },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-20_000);
  });
  const issuer = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the OpenID provider exited with ${code}:\n${stderr}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^issuer (\S+)$/.exec(line);
      if (match) resolve(match[1]!);
    });
  });
  return {
    issuer, clientId, clientSecret,
    output: () => stderr,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
