import { useSyncExternalStore } from 'react';

/**
 * Whether the server answers, in one place: every HTTP call and the WebSocket report here, the
 * layout shows a banner while it does not, live values show as stale, and react-query pauses
 * (instead of failing) the queries it would run meanwhile, resuming them on recovery. While the
 * server is lost a light probe (`/healthz`) asks again with a growing delay, so recovery is
 * automatic; any answer from the server, even an error, means it is reachable.
 */
export interface ConnectionState {
  reachable: boolean;
  /** When the server stopped answering (epoch ms), null while it answers. */
  lostAt: number | null;
}

const PROBE_URL = '/healthz';
const FIRST_PROBE_DELAY_MS = 1_000;
const MAX_PROBE_DELAY_MS = 5_000;
/** A probe that takes longer than this counts as no answer. */
const PROBE_TIMEOUT_MS = 4_000;
/** Answers a reverse proxy gives when the server behind it is gone: not the server speaking. */
const PROXY_GONE = new Set([502, 504]);

let state: ConnectionState = { reachable: true, lostAt: null };
const listeners = new Set<() => void>();
let probeTimer: ReturnType<typeof setTimeout> | null = null;
let probeDelayMs = FIRST_PROBE_DELAY_MS;

function set(next: ConnectionState) {
  if (next.reachable === state.reachable) return;
  state = next;
  listeners.forEach((listener) => listener());
}

/** Any answer from the server: it is reachable. */
export function reportReachable(): void {
  if (probeTimer) clearTimeout(probeTimer);
  probeTimer = null;
  probeDelayMs = FIRST_PROBE_DELAY_MS;
  set({ reachable: true, lostAt: null });
}

/** A call got no answer (network error, proxy saying the server is gone): lost until a probe answers. */
export function reportUnreachable(): void {
  set({ reachable: false, lostAt: state.lostAt ?? Date.now() });
  scheduleProbe();
}

function scheduleProbe() {
  if (probeTimer) return;
  probeTimer = setTimeout(() => {
    probeTimer = null;
    void probe();
  }, probeDelayMs);
  probeDelayMs = Math.min(probeDelayMs * 2, MAX_PROBE_DELAY_MS);
}

/** Asks the server once; reports what it found. */
export async function probe(): Promise<boolean> {
  try {
    const response = await fetch(PROBE_URL, { cache: 'no-store', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (PROXY_GONE.has(response.status)) throw new Error(`proxy answered ${response.status}`);
    reportReachable();
    return true;
  } catch {
    reportUnreachable();
    return false;
  }
}

/** Something hinted the server may be gone (a socket closed): ask now, unless a probe loop already runs. */
export function checkSoon(): void {
  if (state.reachable) void probe();
}

/** fetch for the API client: reports whether the server answered, and otherwise behaves as fetch. */
export async function trackedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(input, init);
  } catch (error) {
    // An abort is the page's own doing (navigation, unmount), not the server's silence.
    if (!(error instanceof DOMException && error.name === 'AbortError')) reportUnreachable();
    throw error;
  }
  if (PROXY_GONE.has(response.status)) reportUnreachable();
  else reportReachable();
  return response;
}

export function connectionState(): ConnectionState {
  return state;
}

export function onConnectionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The connection state, re-rendering when it changes. */
export function useConnection(): ConnectionState {
  return useSyncExternalStore(onConnectionChange, connectionState);
}

// The browser knowing it went offline or back is a hint worth a probe, not a verdict.
if (typeof window !== 'undefined') {
  window.addEventListener('offline', () => reportUnreachable());
  window.addEventListener('online', () => void probe());
}
