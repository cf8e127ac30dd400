import type { IncomingMessage } from 'node:http';

/** A request line's target, split without throwing: every byte of it is the client's choice. */
export interface RequestTarget {
  /** Still percent-encoded, as sent; '/' for anything that is not an origin-form path. */
  path: string;
  query: URLSearchParams;
}

/**
 * The path and query of a request. Node accepts targets `new URL` rejects (`//`, `//[`, absolute
 * forms, `*`), so this never builds a URL: a target that is not an origin-form path reads as '/?',
 * which no route but the console's index answers.
 */
export function requestTarget(req: Pick<IncomingMessage, 'url'>): RequestTarget {
  const raw = req.url ?? '/';
  if (!raw.startsWith('/')) return { path: '/', query: new URLSearchParams() };
  const mark = raw.indexOf('?');
  return mark < 0
    ? { path: raw, query: new URLSearchParams() }
    : { path: raw.slice(0, mark), query: new URLSearchParams(raw.slice(mark + 1)) };
}

/** `decodeURIComponent` that answers null for a malformed escape (`%`, `%E0%A4%A`) instead of throwing. */
export function decodePathPart(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded);
  } catch {
    return null;
  }
}
