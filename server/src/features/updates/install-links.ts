import { readFileSync } from 'node:fs';
import { hashSecret } from '../../platform/secrets.ts';
import type { SqlExecutor } from '../../stores/relational/index.ts';
import { tokenUsable } from './repository.ts';
import { isUrlShaped, needsInsecure } from './server-url.ts';
import { inCheckout } from '../../platform/checkout.ts';

/** Templates live with the installers; the server only fills in the blanks. */
const TEMPLATES = {
  sh: inCheckout('installers', 'linux', 'install.sh'),
  ps1: inCheckout('installers', 'windows', 'install.ps1'),
} as const;
export type ScriptKind = keyof typeof TEMPLATES;

/** Enrollment tokens are `nit_` + base64url: nothing a shell or PowerShell would interpret. */
const TOKEN_SHAPE = /^nit_[A-Za-z0-9_-]{20,100}$/;
export const isTokenShaped = (token: string) => TOKEN_SHAPE.test(token);

/**
 * The install script for one organization: the template with the server URL and the token
 * filled in, and whether the agent must accept plain http (a server beyond loopback without
 * TLS). Both values are checked against strict shapes first, so neither can break out of the
 * quoting in the script.
 */
export function renderInstallScript(kind: ScriptKind, values: { serverUrl: string; token: string }): string {
  const serverUrl = values.serverUrl.replace(/\/+$/, '');
  if (!isUrlShaped(serverUrl)) throw new Error(`server URL ${JSON.stringify(serverUrl)} cannot go into an install script`);
  if (!TOKEN_SHAPE.test(values.token)) throw new Error('token is not an enrollment token');
  return readFileSync(TEMPLATES[kind], 'utf8')
    .replaceAll('__NINJAIT_SERVER__', serverUrl)
    .replaceAll('__NINJAIT_TOKEN__', values.token)
    .replaceAll('__NINJAIT_INSECURE__', needsInsecure(serverUrl) ? '1' : '0');
}

/**
 * Whether a token could still enroll a device, without using it up: an expired, revoked or
 * used-up link serves nothing, so an old URL in a shell history or proxy log is worthless.
 */
export async function installTokenUsable(db: SqlExecutor, token: string): Promise<boolean> {
  if (!TOKEN_SHAPE.test(token)) return false;
  return tokenUsable(db, hashSecret(token));
}
