import type { ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Each store's state, from the health checks the composition root passes in; ready only when every store answers. */
export async function readiness<Health extends { ok: boolean }>(checks: Record<string, () => Promise<Health>>): Promise<{ ready: boolean; stores: Record<string, Health> }> {
  const stores = Object.fromEntries(
    await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await check()] as const)),
  );
  return { ready: Object.values(stores).every((health) => health.ok), stores };
}
