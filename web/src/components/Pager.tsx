import { useState } from 'react';

/**
 * Keyset paging state: the cursors that led to the current page, forgotten when `scope` (the
 * filters and sort) changes, so a new filter always starts on page one.
 */
export function useCursorPages(scope: string) {
  const [state, setState] = useState<{ scope: string; cursors: string[] }>({ scope, cursors: [] });
  const cursors = state.scope === scope ? state.cursors : [];
  return {
    cursor: cursors.at(-1),
    /** 1-based. */
    page: cursors.length + 1,
    next: (cursor: string) => setState({ scope, cursors: [...cursors, cursor] }),
    previous: () => setState({ scope, cursors: cursors.slice(0, -1) }),
    first: () => setState({ scope, cursors: [] }),
  };
}

export function Pager({ page, pages, hasNext, busy, onFirst, onPrevious, onNext }: {
  page: number;
  pages: number;
  hasNext: boolean;
  busy: boolean;
  onFirst: () => void;
  onPrevious: () => void;
  onNext: () => void;
}) {
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" className="secondary small" onClick={onFirst} disabled={page === 1 || busy}>First</button>
      <button type="button" className="secondary small" onClick={onPrevious} disabled={page === 1 || busy}>Previous</button>
      <span className="muted small" aria-live="polite">Page {page} of {Math.max(pages, page)}</span>
      <button type="button" className="secondary small" onClick={onNext} disabled={!hasNext || busy}>Next</button>
    </nav>
  );
}
