import { z } from 'zod';
import { releaseSchema } from './release.ts';
import type { FetchLike } from '../link/node-fetch.ts';

/** What `updates.check` answers: the newest signed bundle for this platform, if any. */
export const offerSchema = z.object({
  release: releaseSchema.nullable(),
  /** Where to download it, absolute or relative to the server URL. */
  url: z.string().nullable(),
});
export type Offer = z.infer<typeof offerSchema>;

const REQUEST_TIMEOUT_MS = 15_000;

/** The tRPC HTTP envelope without a transformer: `{ result: { data } }` or `{ error }`. */
async function trpcCall<T>(url: URL, init: RequestInit, schema: z.ZodType<T>, fetchImpl: FetchLike): Promise<T> {
  const res = await fetchImpl(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = (await res.json().catch(() => null)) as { result?: { data?: unknown }; error?: { message?: string } } | null;
  if (!res.ok || !body?.result) throw new Error(`${url.pathname} answered ${res.status}: ${body?.error?.message ?? 'no result'}`);
  return schema.parse(body.result.data);
}

export function trpcUrl(server: string, path: string): URL {
  return new URL(`trpc/${path}`, server.endsWith('/') ? server : `${server}/`);
}

/** Asks the server which agent version it offers for this platform. Public: versions are not secret. */
export function fetchOffer(server: string, query: { platform: string; arch: string; version: string }, fetchImpl: FetchLike = fetch): Promise<Offer> {
  const url = trpcUrl(server, 'updates.check');
  url.searchParams.set('input', JSON.stringify(query));
  return trpcCall(url, { method: 'GET' }, offerSchema, fetchImpl);
}

/**
 * Asks the server whether this device has reported `version` since it was started: the proof
 * that a new version connected. Device credentials go in a POST body, never in a URL.
 */
export async function fetchConfirmation(
  server: string,
  input: { deviceId: string; deviceSecret: string; version: string },
  fetchImpl: FetchLike = fetch,
): Promise<boolean> {
  const url = trpcUrl(server, 'updates.confirm');
  const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) };
  const out = await trpcCall(url, init, z.object({ confirmed: z.boolean() }), fetchImpl);
  return out.confirmed;
}
