/**
 * The session token from `auth.login`. HTTP calls carry the HttpOnly cookie; the token is kept
 * (in memory and this tab's sessionStorage) only for the WebSocket's connectionParams.
 */
const STORAGE_KEY = 'ninjait.session';

let token: string | null = readStored();
const listeners = new Set<() => void>();

function readStored(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function getSessionToken(): string | null {
  return token;
}

export function setSessionToken(next: string | null): void {
  token = next;
  try {
    if (next) sessionStorage.setItem(STORAGE_KEY, next);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage can be disabled; the in-memory token still serves this page.
  }
  listeners.forEach((listener) => listener());
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
