import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../app/services.ts';
import { installTokenUsable, publicServerUrl, renderInstallScript, type ScriptKind } from './install-links.ts';
import { releaseCatalog, releasesDir, type ReleaseQuery } from './releases.ts';

const SCRIPT_TYPES: Record<ScriptKind, string> = { sh: 'text/x-shellscript; charset=utf-8', ps1: 'text/plain; charset=utf-8' };
const LATEST = /^\/downloads\/agent\/latest\/(linux|darwin|win32)\/([a-z0-9_]{1,16})\/(bundle|deb|rpm|pkg|msi)$/;

function send(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/**
 * Public HTTP routes for installing and updating agents:
 *   GET /install.sh?token=…, /install.ps1?token=…   the install script with the token filled in
 *   GET /downloads/agent/<file>                     a signed artifact listed in the releases folder
 *   GET /downloads/agent/latest/<platform>/<arch>/<kind>   redirect to the newest such artifact
 * Returns false for any other path. Query strings (which hold tokens) are never logged here.
 */
export function handleDownloads(services: Services, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://local');
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (url.pathname === '/install.sh' || url.pathname === '/install.ps1') {
    void serveScript(services, req, res, url.pathname === '/install.sh' ? 'sh' : 'ps1', url.searchParams.get('token') ?? '')
      .catch((err: unknown) => {
        services.log.error({ err }, 'install script failed');
        if (!res.headersSent) send(res, 500, 'Internal server error\n');
      });
    return true;
  }
  if (!url.pathname.startsWith('/downloads/agent/')) return false;
  const catalog = releaseCatalog(releasesDir(services.env));
  const latest = LATEST.exec(url.pathname);
  if (latest) {
    const release = catalog.latest({ platform: latest[1], arch: latest[2], kind: latest[3] } as ReleaseQuery);
    if (!release) send(res, 404, `No ${latest[3]} release for ${latest[1]}-${latest[2]} on this server\n`);
    else send(res, 302, '', { location: `/downloads/agent/${encodeURIComponent(release.file)}`, 'x-ninjait-version': release.version, 'x-ninjait-sha256': release.sha256 });
    return true;
  }
  const file = decodeURIComponent(url.pathname.slice('/downloads/agent/'.length));
  const path = catalog.pathOf(file);
  if (!path) {
    send(res, 404, 'Not found\n');
    return true;
  }
  const { size } = statSync(path);
  res.writeHead(200, {
    'content-type': 'application/octet-stream', 'content-length': String(size),
    'content-disposition': `attachment; filename="${file}"`, 'cache-control': 'public, max-age=300',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(path).on('error', () => res.destroy()).pipe(res);
  return true;
}

async function serveScript(services: Services, req: IncomingMessage, res: ServerResponse, kind: ScriptKind, token: string): Promise<void> {
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
