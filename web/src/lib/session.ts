/**
 * Whether this tab is logged in. The session itself is the HttpOnly cookie `auth.cookieLogin` sets:
 * no script on the page can read it, so nothing here holds a credential. This tab remembers only
 * that it logged in (in sessionStorage), to ask the server who it is after a reload instead of
 * showing the login page; the server's answer decides.
 */
const STORAGE_KEY = 'ninjait.loggedIn';

let loggedIn = readStored();
const listeners = new Set<() => void>();

function readStored(): boolean {
  try {
    return sessionStorage.getItem(STORAGE_KEY) === '1';
  } catch {
    return false;
  }
}

export function isLoggedIn(): boolean {
  return loggedIn;
}

export function setLoggedIn(next: boolean): void {
  loggedIn = next;
  try {
    if (next) sessionStorage.setItem(STORAGE_KEY, '1');
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage can be disabled; the in-memory flag still serves this page.
  }
  listeners.forEach((listener) => listener());
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
