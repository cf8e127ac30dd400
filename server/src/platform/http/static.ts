import { statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import compression from 'compression';
import serveStatic from 'serve-static';
import { decodePathPart, requestTarget } from './request-target.ts';
import { inCheckout } from '../checkout.ts';

/** Where `npm run build -w web` writes the console. */
export const DEFAULT_WEB_DIST_DIR = inCheckout('web', 'dist');

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
/** Smaller bodies fit one packet either way; compression's own filter skips images and fonts. */
const COMPRESS_FROM_BYTES = 1024;
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

export type StaticRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

const isFile = (file: string) => {
  try {
    return statSync(file).isFile();
  } catch {
    // Removed mid-rebuild, no permission, a name too long: not served.
    return false;
  }
};

/** The URL path serve-static decodes back to exactly `path` (already decoded and checked here). */
const encodedPath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

/**
 * Serves the built console at `/`: real files by path, `index.html` for any other page path
 * (the console routes in the browser), hashed assets cached for a year, the page itself
 * revalidated every time. Returns false for what it does not serve, so the caller answers 404.
 * File sending (ETag and 304, HEAD, ranges) is serve-static's and compression is compression's;
 * this module decides what is served and with which headers.
 */
export function createStaticRoutes(options: { rootDir?: string } = {}): StaticRoute {
  const root = resolve(options.rootDir ?? DEFAULT_WEB_DIST_DIR);
  const assetsDir = join(root, HASHED_PREFIX);
  // Typed for Express; it uses only Node's request and response.
  const compress = compression({ threshold: COMPRESS_FROM_BYTES }) as unknown as (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
  const files = serveStatic(root, {
    index: false,
    redirect: false,
    dotfiles: 'ignore',
    // Ours, per file (below): hashed assets are immutable, everything else revalidates.
    cacheControl: false,
    lastModified: false,
    setHeaders(res, file) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      res.setHeader('content-type', CONTENT_TYPES[extname(file)] ?? 'application/octet-stream');
      res.setHeader('cache-control', file.startsWith(assetsDir) ? IMMUTABLE : 'no-cache');
    },
  });

  const send = (req: IncomingMessage, res: ServerResponse, path: string) => {
    req.url = encodedPath(path);
    // A file that vanished between the check and the send (a rebuild swapping folders) is a plain 404.
    const gone = () => {
      if (res.headersSent) return void res.end();
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end('Not found\n');
    };
    compress(req, res, () => files(req, res, gone));
  };

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = decodePathPart(requestTarget(req).path);
    if (path === null || path.includes('\0')) return false;
    const file = resolve(join(root, path));
    // A path that climbs out of the build folder is not ours to answer.
    if (file !== root && !file.startsWith(root + sep)) return false;

    if (path !== '/' && isFile(file)) {
      send(req, res, path);
      return true;
    }
    // Missing files with an extension are real 404s; anything else is a page of the console.
    if (extname(path) !== '' || path.startsWith(HASHED_PREFIX)) return false;
    if (!isFile(join(root, 'index.html'))) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end('The web console is not built yet: run `npm run build` (or `npm start`, which builds it first).\n');
      return true;
    }
    send(req, res, '/index.html');
    return true;
  };
}
