import { createTRPCClient, httpLink } from '@trpc/client';
import { enrollOutputSchema, type EnrollInput, type EnrollOutput } from '@ninjait/shared';
import type { AppRouter } from '@ninjait/server/router';
import { classify } from './classify.ts';
import { NotNinjaitServerError } from './describe-error.ts';
import type { FetchLike } from './node-fetch.ts';
import { trpcHttpUrl } from './ws-url.ts';

export interface EnrollRequestOptions {
  /** How to reach the server (the pinned transport); global fetch when absent. */
  fetch?: FetchLike;
  timeoutMs?: number;
}

/**
 * Trades an enrollment token for device credentials (`agent.enroll` over HTTP(S): the device
 * has no secret yet to open the authenticated socket with). Throws a LinkError whose cause
 * chain says why (see describeConnectionError).
 */
export async function requestEnrollment(server: string, input: EnrollInput, opts: EnrollRequestOptions = {}): Promise<EnrollOutput> {
  const client = createTRPCClient<AppRouter>({ links: [httpLink({ url: trpcHttpUrl(server).toString(), fetch: apiOnly(opts.fetch ?? fetch) })] });
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
  try {
    return enrollOutputSchema.parse(await client.agent.enroll.mutate(input, { signal }));
  } catch (err) {
    throw classify(err, signal);
  }
}

/**
 * tRPC answers JSON, errors included, and knows `agent.enroll`: anything else (an HTML page, a
 * 404, an empty body) is another server at that address, or the wrong path on it.
 */
function apiOnly(fetchImpl: FetchLike): FetchLike {
  return async (input, init) => {
    const res = await fetchImpl(input, init);
    const type = res.headers.get('content-type');
    if (!type?.includes('json') || res.status === 404) {
      await res.body?.cancel();
      throw new NotNinjaitServerError(String(input), res.status, type);
    }
    return res;
  };
}
