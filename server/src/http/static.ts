import { readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where `npm run build -w web` writes the console. */
export const DEFAULT_WEB_DIST_DIR = fileURLToPath(new URL('../../../web/dist', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};
/** Text types worth compressing; images and fonts already are. */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt', '.webmanifest']);
/** Vite puts content-hashed files here: their name changes whenever their bytes do. */
const HASHED_PREFIX = '/assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** The console's page never carries third-party code; the API and its WebSocket are same-origin. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

interface CachedFile {
  mtimeMs: number;
  body: Buffer;
  gzipped: Buffer | null;
  etag: string;
}

export type StaticRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Serves the built console at `/`: real files by path, `index.html` for any other page path
 * (the console routes in the browser), hashed assets cached for a year, the page itself
 * revalidated every time. Returns false for what it does not serve, so the caller answers 404.
 */
export function createStaticRoutes(options: { rootDir?: string } = {}): StaticRoute {
  const root = resolve(options.rootDir ?? DEFAULT_WEB_DIST_DIR);
  const cache = new Map<string, CachedFile>();

  /** Reads through a small cache keyed by mtime, so a rebuild is picked up without a restart. */
  function load(file: string): CachedFile | null {
    let stat;
    try {
      stat = statSync(file);
    } catch {
      return null;
    }
    if (!stat.isFile()) return null;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === stat.mtimeMs) return hit;
    const body = readFileSync(file);
    const entry: CachedFile = {
      mtimeMs: stat.mtimeMs,
      body,
      gzipped: COMPRESSIBLE.has(extname(file)) && body.length > 1024 ? gzipSync(body) : null,
      etag: `"${body.length.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`,
    };
    cache.set(file, entry);
    return entry;
  }

  function send(req: IncomingMessage, res: ServerResponse, file: string, entry: CachedFile, cacheControl: string): void {
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': cacheControl,
      etag: entry.etag,
      vary: 'accept-encoding',
    };
    if (req.headers['if-none-match'] === entry.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const gzip = entry.gzipped && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? entry.gzipped! : entry.body;
    if (gzip) headers['content-encoding'] = 'gzip';
    headers['content-length'] = String(body.length);
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let path: string;
    try {
      path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    } catch {
      return false;
    }
    if (path.includes('\0')) return false;
    const file = resolve(join(root, path));
    // A path that climbs out of the build folder is not ours to answer.
    if (file !== root && !file.startsWith(root + sep)) return false;

    const asset = path !== '/' ? load(file) : null;
    if (asset) {
      send(req, res, file, asset, path.startsWith(HASHED_PREFIX) ? IMMUTABLE : 'no-cache');
      return true;
    }
    // Missing files with an extension are real 404s; anything else is a page of the console.
    if (extname(path) !== '' || path.startsWith(HASHED_PREFIX)) return false;
    const indexFile = join(root, 'index.html');
    const index = load(indexFile);
    if (!index) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end('The web console is not built yet: run `npm run build` (or `npm start`, which builds it first).\n');
      return true;
    }
    send(req, res, indexFile, index, 'no-cache');
    return true;
  };
}
