import { createTRPCClient, httpLink } from '@trpc/client';
import { enrollOutputSchema, type EnrollInput, type EnrollOutput } from '@ninjait/shared';
import type { AppRouter } from '@ninjait/server/router';
import { classify } from './classify.ts';
import { trpcHttpUrl } from './ws-url.ts';

/**
 * Trades an enrollment token for device credentials (`agent.enroll` over plain HTTP: the
 * device has no secret yet to open the authenticated socket with). Throws a LinkError.
 */
export async function requestEnrollment(server: string, input: EnrollInput, timeoutMs = 30_000): Promise<EnrollOutput> {
  const client = createTRPCClient<AppRouter>({ links: [httpLink({ url: trpcHttpUrl(server).toString() })] });
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    return enrollOutputSchema.parse(await client.agent.enroll.mutate(input, { signal }));
  } catch (err) {
    throw classify(err, signal);
  }
}
