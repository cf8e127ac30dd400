import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Env } from '../../platform/config/index.ts';
import type { Logger } from '../../platform/obs/logger.ts';
import type { RelationalStore } from '../../stores/relational/index.ts';
import type { RateLimiter } from '../auth/index.ts';
import { decodePathPart, requestTarget } from '../../platform/http/request-target.ts';
import { installTokenUsable, renderInstallScript, type ScriptKind } from './install-links.ts';
import { publicServerUrl } from './server-url.ts';
import { releaseCatalog, releasesDir, type ReleaseQuery } from './releases.ts';

const SCRIPT_TYPES: Record<ScriptKind, string> = { sh: 'text/x-shellscript; charset=utf-8', ps1: 'text/plain; charset=utf-8' };
const LATEST = /^\/downloads\/agent\/latest\/(linux|darwin|win32)\/([a-z0-9_]{1,16})\/(bundle|deb|rpm|pkg|msi)$/;

function send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** What the install and download routes use, built in the composition root (app/). */
export interface DownloadsDeps {
  env: Env;
  log: Pick<Logger, 'error'>;
  db: RelationalStore;
  rateLimit: RateLimiter;
}

/**
 * Public HTTP routes for installing and updating agents:
 *   GET /install.sh?token=…, /install.ps1?token=…   the install script with the token filled in
 *   GET /downloads/agent/<file>                     a signed artifact listed in the releases folder
 *   GET /downloads/agent/latest/<platform>/<arch>/<kind>   redirect to the newest such artifact
 * Returns false for any other path. Query strings (which hold tokens) are never logged here.
 */
export function handleDownloads(services: DownloadsDeps, req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const { path: pathname, query } = requestTarget(req);
  if (pathname === '/install.sh' || pathname === '/install.ps1') {
    void serveScript(services, req, res, pathname === '/install.sh' ? 'sh' : 'ps1', query.get('token') ?? '')
      .catch((err: unknown) => {
        services.log.error({ err }, 'install script failed');
        if (!res.headersSent) send(res, 500, 'Internal server error\n');
      });
    return true;
  }
  if (!pathname.startsWith('/downloads/agent/')) return false;
  const catalog = releaseCatalog(releasesDir(services.env));
  const latest = LATEST.exec(pathname);
  if (latest) {
    const release = catalog.latest({ platform: latest[1], arch: latest[2], kind: latest[3] } as ReleaseQuery);
    if (!release) send(res, 404, `No ${latest[3]} release for ${latest[1]}-${latest[2]} on this server\n`);
    else send(res, 302, '', { location: `/downloads/agent/${encodeURIComponent(release.file)}`, 'x-ninjait-version': release.version, 'x-ninjait-sha256': release.sha256 });
    return true;
  }
  // A malformed escape names no file we list: the same 404 as any other unknown name.
  const file = decodePathPart(pathname.slice('/downloads/agent/'.length));
  const path = file === null ? null : catalog.pathOf(file);
  const size = path ? sizeOf(path) : null;
  if (!path || size === null) {
    send(res, 404, 'Not found\n');
    return true;
  }
  res.writeHead(200, {
    'content-type': 'application/octet-stream', 'content-length': String(size),
    'content-disposition': `attachment; filename="${file}"`, 'cache-control': 'public, max-age=300',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(path).on('error', () => res.destroy()).pipe(res);
  return true;
}

/** The artifact's size, or null when it vanished since the catalog was scanned (a release being replaced). */
function sizeOf(path: string): number | null {
  try {
    return statSync(path).size;
  } catch {
    return null;
  }
}

async function serveScript(services: DownloadsDeps, req: IncomingMessage, res: ServerResponse, kind: ScriptKind, token: string): Promise<void> {
  const verdict = await services.rateLimit(`ip:${req.socket.remoteAddress ?? '?'}`, 'install-script', 60);
  if (!verdict.allowed) return send(res, 429, `Too many requests; try again in ${verdict.resetInSec} s\n`);
  if (!(await installTokenUsable(services.db, token))) {
    return send(res, 403, 'This install link is not valid: it expired, was revoked or was already used. Create a new one in the console or with `ninjait installer`.\n');
  }
  const serverUrl = publicServerUrl(services.env, req);
  if (!serverUrl) return send(res, 400, 'Set PUBLIC_URL on the server: the Host header cannot be used in a script\n');
  // no-store and no-referrer: the body and the URL both carry a live enrollment token.
  send(res, 200, renderInstallScript(kind, { serverUrl, token }), { 'content-type': SCRIPT_TYPES[kind], 'referrer-policy': 'no-referrer' });
}
