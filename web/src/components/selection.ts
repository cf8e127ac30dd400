import { useState } from 'react';

/** Which of the rows on screen are selected, for a bulk action; the table's checkboxes drive it. */
export interface RowSelection<T> {
  has: (id: string) => boolean;
  toggle: (id: string) => void;
  /** Selects every row shown, or none when all are selected. */
  toggleAll: () => void;
  all: boolean;
  some: boolean;
  /** The selected rows among those shown. */
  rows: T[];
  clear: () => void;
}

/**
 * A selection that belongs to the rows on screen: when `scope` changes (another filter or page) it
 * starts empty, so a bulk action never reaches a row the person no longer sees.
 */
export function useRowSelection<T>(rows: readonly T[], idOf: (row: T) => string, scope: string): RowSelection<T> {
  const [selected, setSelected] = useState<{ scope: string; ids: Set<string> }>({ scope: '', ids: new Set() });
  const ids = selected.scope === scope ? selected.ids : new Set<string>();
  const shown = rows.filter((row) => ids.has(idOf(row)));
  return {
    has: (id) => ids.has(id),
    toggle: (id) => {
      const next = new Set(ids);
      if (!next.delete(id)) next.add(id);
      setSelected({ scope, ids: next });
    },
    toggleAll: () => setSelected({ scope, ids: shown.length === rows.length ? new Set() : new Set(rows.map(idOf)) }),
    all: rows.length > 0 && shown.length === rows.length,
    some: shown.length > 0,
    rows: shown,
    clear: () => setSelected({ scope, ids: new Set() }),
  };
}
