import type { ServerResponse } from 'node:http';
import type { Services } from '../app/services.ts';
import type { StoreHealth } from '../stores/types.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** Each store's state; ready only when every store answers. */
export async function readiness(services: Services): Promise<{ ready: boolean; stores: Record<string, StoreHealth> }> {
  const checks = { relational: services.db.health(), cache: services.cache.health(), analytics: services.analytics.health(),
    timeseries: services.timeseries.health(), documents: services.documents.health() };
  const stores = Object.fromEntries(
    await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await check] as const)),
  );
  return { ready: Object.values(stores).every((health) => health.ok), stores };
}
