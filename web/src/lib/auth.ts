import { useQuery } from '@tanstack/react-query';
import type { Role } from '@ninjait/shared';
import { api } from './trpc.ts';
import { getSessionToken, onSessionChange, setSessionToken } from './session.ts';
import { queryClient } from './query.ts';
import { useSyncExternalStore } from 'react';

/** Weakest first, as the server orders them (kept here so the bundle does not carry zod). */
export const ROLES: readonly Role[] = ['viewer', 'technician', 'admin', 'owner'];

export function roleAtLeast(role: Role | undefined, required: Role): boolean {
  return role !== undefined && ROLES.indexOf(role) >= ROLES.indexOf(required);
}

export function useSessionToken(): string | null {
  return useSyncExternalStore((listener) => onSessionChange(listener), getSessionToken);
}

export type Me = Awaited<ReturnType<ReturnType<typeof api>['auth']['me']['query']>>;

/** Who is logged in; only asked when this tab holds a session (no 401 noise on the login page). */
export function useMe() {
  const token = useSessionToken();
  return useQuery({ queryKey: ['me', token], queryFn: () => api().auth.me.query(), enabled: token !== null, staleTime: 5 * 60_000 });
}

export async function logIn(email: string, password: string): Promise<void> {
  const { sessionToken } = await api().auth.login.mutate({ email, password });
  queryClient.clear();
  setSessionToken(sessionToken);
}

/** Ends the session on the server (best effort), then forgets everything this tab knew. */
export async function logOut(): Promise<void> {
  try {
    await api().auth.logout.mutate();
  } finally {
    queryClient.clear();
    setSessionToken(null);
  }
}

/** The session ended elsewhere (expired, server restarted): back to the login page. */
export function forgetSession(): void {
  queryClient.clear();
  setSessionToken(null);
}
