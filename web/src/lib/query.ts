import { QueryClient, onlineManager } from '@tanstack/react-query';
import { isTRPCClientError } from '@trpc/client';
import { connectionState, onConnectionChange } from './connection.ts';

// "Online" for react-query means "the server answers" (connection.ts), not the browser's flag:
// while it does not, queries pause and keep the data they had, and resume on their own after.
onlineManager.setEventListener((setOnline) => {
  setOnline(connectionState().reachable);
  return onConnectionChange(() => setOnline(connectionState().reachable));
});

/** Codes for which trying again cannot help. */
const FINAL_CODES = new Set(['UNAUTHORIZED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_REQUEST', 'TOO_MANY_REQUESTS', 'CONFLICT']);

function codeOf(error: unknown): string | undefined {
  return isTRPCClientError(error) ? (error.data as { code?: string } | undefined)?.code : undefined;
}

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // The API is rate limited per person and endpoint: fetch on demand, rely on pushes for live data.
      staleTime: 30_000,
      refetchOnWindowFocus: false,
      retry: (count, error) => !FINAL_CODES.has(codeOf(error) ?? '') && count < 2,
    },
    // A click while the server is gone fails now, with a message, instead of firing minutes later.
    mutations: { networkMode: 'always' },
  },
});

export function isUnauthorized(error: unknown): boolean {
  return codeOf(error) === 'UNAUTHORIZED';
}

/** A sentence a person can act on, from any error the client can throw. */
export function errorMessage(error: unknown): string {
  if (isTRPCClientError(error)) {
    const data = error.data as { zodError?: { fieldErrors?: Record<string, string[]>; formErrors?: string[] } | null } | undefined;
    const fields = Object.entries(data?.zodError?.fieldErrors ?? {}).map(([field, messages]) => `${field}: ${messages.join(', ')}`);
    const forms = data?.zodError?.formErrors ?? [];
    if (fields.length > 0 || forms.length > 0) return [...forms, ...fields].join('; ');
    if (/fetch|network|Failed to fetch/i.test(error.message) && !error.data) return 'Cannot reach the server. Check your connection and try again.';
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
