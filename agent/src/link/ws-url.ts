/** `http(s)://host[/prefix]` → `ws(s)://host[/prefix]/trpc`: where the server mounts tRPC. */
export function trpcWsUrl(server: string): string {
  const url = trpcHttpUrl(server);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** `http(s)://host[/prefix]` → `http(s)://host[/prefix]/trpc`. */
export function trpcHttpUrl(server: string): URL {
  const url = new URL(server);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`server URL must start with http:// or https:// (got ${url.protocol})`);
  }
  return serverPathUrl(url, '/trpc');
}

/** `http(s)://host[/prefix]` and `/path` → `http(s)://host[/prefix]/path`: where the server mounts its routes. */
export function serverPathUrl(server: string | URL, path: string): URL {
  const url = new URL(server);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  url.search = '';
  url.hash = '';
  return url;
}
