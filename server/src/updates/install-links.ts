import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { hashSecret } from '../auth/secrets.ts';
import type { SqlExecutor } from '../stores/relational/index.ts';

/** Templates live with the installers; the server only fills in the blanks. */
const TEMPLATES = {
  sh: new URL('../../../installers/linux/install.sh', import.meta.url),
  ps1: new URL('../../../installers/windows/install.ps1', import.meta.url),
} as const;
export type ScriptKind = keyof typeof TEMPLATES;

/** Enrollment tokens are `nit_` + base64url: nothing a shell or PowerShell would interpret. */
const TOKEN_SHAPE = /^nit_[A-Za-z0-9_-]{20,100}$/;
/** Scheme, host, port and an optional plain path: safe inside single quotes in both shells. */
const URL_SHAPE = /^https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?:\/[A-Za-z0-9._~/-]*)?$|^https?:\/\/\[[0-9a-fA-F:.]+\](?::\d{1,5})?(?:\/[A-Za-z0-9._~/-]*)?$/;

export const isTokenShaped = (token: string) => TOKEN_SHAPE.test(token);

/**
 * The install script for one organization: the template with the server URL and the token
 * filled in. Both values are checked against strict shapes first, so neither can break out
 * of the quoting in the script.
 */
export function renderInstallScript(kind: ScriptKind, values: { serverUrl: string; token: string }): string {
  const serverUrl = values.serverUrl.replace(/\/+$/, '');
  if (!URL_SHAPE.test(serverUrl)) throw new Error(`server URL ${JSON.stringify(serverUrl)} cannot go into an install script`);
  if (!TOKEN_SHAPE.test(values.token)) throw new Error('token is not an enrollment token');
  return readFileSync(TEMPLATES[kind], 'utf8')
    .replaceAll('__NINJAIT_SERVER__', serverUrl)
    .replaceAll('__NINJAIT_TOKEN__', values.token);
}

/** The one-liners an admin copies, one per OS. The token is short-lived and single-use by default. */
export function installLines(serverUrl: string, token: string): { linux: string; macos: string; windows: string } {
  const base = serverUrl.replace(/\/+$/, '');
  const sh = `curl -fsSL '${base}/install.sh?token=${token}' | sudo sh`;
  return {
    linux: sh,
    macos: sh,
    windows: `powershell -NoProfile -ExecutionPolicy Bypass -Command "iex (irm '${base}/install.ps1?token=${token}')"`,
  };
}

/** PUBLIC_URL when set; else what the client used to reach us (Host header, checked). */
export function publicServerUrl(env: { PUBLIC_URL?: string | undefined }, req: IncomingMessage): string | null {
  if (env.PUBLIC_URL) return env.PUBLIC_URL.replace(/\/+$/, '');
  const host = req.headers.host ?? '';
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const url = `${encrypted ? 'https' : 'http'}://${host}`;
  return URL_SHAPE.test(url) ? url : null;
}

/**
 * Whether a token could still enroll a device, without using it up: an expired, revoked or
 * used-up link serves nothing, so an old URL in a shell history or proxy log is worthless.
 */
export async function installTokenUsable(db: SqlExecutor, token: string): Promise<boolean> {
  if (!TOKEN_SHAPE.test(token)) return false;
  const { rows } = await db.query<{ usable: boolean }>(
    `SELECT (revoked_at IS NULL AND expires_at > NOW() AND uses < max_uses) AS usable
     FROM enrollment_tokens WHERE token_hash = $1`,
    [hashSecret(token)],
  );
  return rows[0]?.usable === true;
}
