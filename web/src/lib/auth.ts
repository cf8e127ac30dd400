import { hashKey, useQuery } from '@tanstack/react-query';
import type { Role } from '@ninjait/shared';
import { api, type Outputs } from './trpc.ts';
import { trpc } from './trpc-query.ts';
import { setLoggedIn } from './session.ts';
import { isUnauthorized, queryClient } from './query.ts';

/** Weakest first, as the server orders them (kept here so the bundle does not carry zod). */
export const ROLES: readonly Role[] = ['viewer', 'technician', 'admin', 'owner'];

export function roleAtLeast(role: Role | undefined, required: Role): boolean {
  return role !== undefined && ROLES.indexOf(role) >= ROLES.indexOf(required);
}

/** The signed-in person, their organization, and whether that organization runs this server. */
export type Me = NonNullable<Outputs['auth']['session']>;

/** Who is signed in, by the router's key: every other cached answer belongs to that person's pages. */
const ME = trpc.auth.session.queryFilter();
const isMeKey = (key: readonly unknown[] | undefined) => key !== undefined && hashKey(key) === hashKey(ME.queryKey);

/**
 * Who is signed in, asked of the server with the HttpOnly cookie when the console loads: `null`
 * when nobody is (no cookie, or its session ended), so a new tab or a reload with a live cookie
 * lands signed in and the login page costs no failed request. The server's answer decides; this
 * page never holds a credential.
 */
export function useMe() {
  return useQuery(trpc.auth.session.queryOptions(undefined, { staleTime: 5 * 60_000 }));
}

/** Drops what the previous person's pages fetched, keeping the question of who is signed in. */
function forgetPages(): void {
  queryClient.removeQueries({ predicate: (query) => !isMeKey(query.queryKey) });
}

/** The server sets the HttpOnly session cookie; the answer carries no token for this page to keep. */
export async function logIn(email: string, password: string, code?: string): Promise<void> {
  await api().auth.cookieLogin.mutate({ email, password, ...(code ? { code } : {}) });
  forgetPages();
  // A new session needs a new socket (the server reads the cookie when a socket opens).
  setLoggedIn(true);
  await queryClient.refetchQueries(ME);
}

/** Ends the session on the server (best effort), then forgets everything this tab knew. */
export async function logOut(): Promise<void> {
  try {
    await api().auth.logout.mutate();
  } finally {
    forgetSession();
  }
}

/** The session ended (logged out, expired, password changed elsewhere): back to the login page. */
export function forgetSession(): void {
  queryClient.setQueryData(ME.queryKey, null);
  forgetPages();
  setLoggedIn(false);
}

/** A page's call refused for want of a session: ask again who is signed in; a null answer shows the login page. */
function recheckOnUnauthorized(error: unknown, key: readonly unknown[] | undefined): void {
  if (!isMeKey(key) && isUnauthorized(error)) void queryClient.invalidateQueries(ME);
}
queryClient.getQueryCache().subscribe((event) => {
  if (event.type === 'updated' && event.action.type === 'error') recheckOnUnauthorized(event.action.error, event.query.queryKey);
});
queryClient.getMutationCache().subscribe((event) => {
  if (event.type === 'updated' && event.action.type === 'error') recheckOnUnauthorized(event.action.error, undefined);
});

/** The server gave this tab a new session cookie (after a password change): reconnect with it. */
export function sessionRenewed(): void {
  setLoggedIn(true);
  void queryClient.invalidateQueries(ME);
}

/**
 * Moves this tab's session to another organization: the server answers with a new session cookie
 * (the old session ends), so every page fetched for the old organization is dropped and the
 * socket reconnects with the new cookie.
 */
export async function switchOrganization(organizationId: string): Promise<void> {
  await api().auth.switchOrganization.mutate({ organizationId });
  forgetPages();
  setLoggedIn(true);
  await queryClient.refetchQueries(ME);
}
