import { useState, type ReactNode } from 'react';
import { Empty, ErrorNote, Spinner } from './ui.tsx';
import './DataTable.css';
import type { RowSelection } from './selection.ts';

/** One column: its header, how a row shows in it, and (when it can be sorted) the value it sorts by. */
export interface Column<T> {
  key: string;
  header: string;
  /** Read by screen readers only (an actions column needs no visible title). */
  headerHidden?: boolean;
  numeric?: boolean;
  cell: (row: T) => ReactNode;
  /** Sorts the rows shown, on this page; columns without one keep the server's order. */
  sortValue?: (row: T) => string | number | null | undefined;
  /** Extra classes for the cell (`nowrap`, `details`, `ellipsis`, `mono`), or per row. */
  className?: string | ((row: T) => string | undefined);
  /** Attributes for the cell, such as a tooltip. */
  title?: (row: T) => string | undefined;
}

export interface DataTableProps<T> {
  /** Names the table for screen readers (and the browser tests). */
  caption: string;
  columns: readonly Column<T>[];
  /** Undefined while loading. */
  rows: readonly T[] | undefined;
  rowKey: (row: T) => string;
  /** `data-*` attributes of a row, for scripts and tests that pick one row. */
  rowData?: (row: T) => Record<`data-${string}`, string>;
  /** Shown instead of the table when there are no rows; nothing when omitted. */
  empty?: ReactNode;
  error?: unknown;
  onRetry?: () => void;
  /** A checkbox per row and one for all, for bulk actions (`useRowSelection`). */
  selection?: RowSelection<T>;
  compact?: boolean;
  /** What a row's checkbox is called ("Select <name>"). */
  rowName?: (row: T) => string;
  /** The table's `data-testid`, for pages whose tests and scripts already find it that way. */
  testId?: string;
}

type Sort = { key: string; dir: 'asc' | 'desc' } | null;

function compare(a: string | number | null | undefined, b: string | number | null | undefined): number {
  // A missing value sorts as the smallest, so it gathers at one end instead of scattering.
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
}

function sorted<T>(rows: readonly T[], columns: readonly Column<T>[], sort: Sort): readonly T[] {
  const column = sort && columns.find((c) => c.key === sort.key);
  if (!sort || !column?.sortValue) return rows;
  const value = column.sortValue;
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => sign * compare(value(a), value(b)));
}

/**
 * The console's table: one markup for every list page, with loading, error and empty states, sorting
 * by the columns that say how, an optional checkbox column for bulk actions, and on a phone each row
 * as a card with its column names (styles.css `.data-table`), so nothing scrolls sideways.
 * The fleet's own table stays virtualised (Devices.tsx): it can hold thousands of rows.
 */
export function DataTable<T>({
  caption, columns, rows, rowKey, rowData, empty, error, onRetry, selection, compact, rowName, testId,
}: DataTableProps<T>) {
  const [sort, setSort] = useState<Sort>(null);
  if (error) return <ErrorNote error={error} {...(onRetry ? { onRetry } : {})} />;
  if (rows === undefined) return <Spinner />;
  if (rows.length === 0 && empty !== undefined) return typeof empty === 'string' ? <Empty title={empty} /> : <>{empty}</>;
  const shown = sorted(rows, columns, sort);
  const toggleSort = (key: string) => setSort(sort?.key === key && sort.dir === 'asc' ? { key, dir: 'desc' } : { key, dir: 'asc' });

  return (
    <div className="table-wrap">
      {/* Explicit roles: on a phone the cells are laid out as blocks, which some browsers take as "not a table". */}
      <table className={`table data-table${compact ? ' compact' : ''}`} role="table" data-testid={testId}>
        <caption className="sr-only">{caption}</caption>
        <thead role="rowgroup">
          <tr role="row">
            {selection ? (
              <th scope="col" className="select" role="columnheader">
                <input
                  type="checkbox"
                  aria-label={`Select every row of ${caption.toLowerCase()}`}
                  checked={selection.all}
                  ref={(box) => {
                    if (box) box.indeterminate = selection.some && !selection.all;
                  }}
                  onChange={selection.toggleAll}
                />
              </th>
            ) : null}
            {columns.map((column) => {
              const active = sort?.key === column.key;
              return (
                <th
                  key={column.key}
                  scope="col"
                  role="columnheader"
                  className={column.numeric ? 'num' : undefined}
                  aria-sort={column.sortValue ? (active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none') : undefined}
                >
                  {column.headerHidden ? <span className="sr-only">{column.header}</span> : column.sortValue ? (
                    <button type="button" className="sort" onClick={() => toggleSort(column.key)}>
                      {column.header}
                      <span aria-hidden="true">{active ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                    </button>
                  ) : column.header}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody role="rowgroup">
          {shown.map((row) => {
            const key = rowKey(row);
            return (
              <tr key={key} role="row" {...rowData?.(row)}>
                {selection ? (
                  <td className="select" role="cell">
                    <input type="checkbox" aria-label={`Select ${rowName?.(row) ?? key}`} checked={selection.has(key)} onChange={() => selection.toggle(key)} />
                  </td>
                ) : null}
                {columns.map((column) => {
                  const extra = typeof column.className === 'function' ? column.className(row) : column.className;
                  const className = [column.numeric ? 'num' : '', extra ?? ''].filter(Boolean).join(' ') || undefined;
                  // On a phone the cell shows its column's name before the value (CSS reads data-label).
                  return (
                    <td key={column.key} role="cell" className={className} title={column.title?.(row)} data-label={column.headerHidden ? undefined : column.header}>
                      {column.cell(row)}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
