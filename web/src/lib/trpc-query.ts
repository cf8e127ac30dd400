import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import type { AppRouter } from '@ninjait/server/router';
import { api } from './trpc.ts';
import { queryClient } from './query.ts';

/**
 * Query, mutation and subscription options from the server's router type: a page writes
 * `useQuery(trpc.devices.list.queryOptions(input))`, and after a change invalidates by the
 * router's own keys (`trpc.devices.pathFilter()` for every devices query), so no key is spelled
 * by hand and a renamed procedure is a compile error.
 *
 * The client is read at each call (a getter), because trpc.ts replaces it on login and logout.
 */
export const trpc = createTRPCOptionsProxy<AppRouter>({
  get client() {
    return api();
  },
  queryClient,
});
