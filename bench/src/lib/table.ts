/** One line of the results table: a figure beside its baseline and the goal. */
export interface Row {
  benchmark: string;
  figure: string;
  value: string;
  baseline: string;
  goal: string;
}

export function formatTable(rows: readonly Row[]): string {
  const columns: (keyof Row)[] = ['benchmark', 'figure', 'value', 'baseline', 'goal'];
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    line(columns.map(String)),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map((r) => line(columns.map((c) => r[c]))),
  ].join('\n');
}

/** Formats a number for the table with its unit; '-' for missing. */
export function fmt(value: number | null | undefined, unit = '', digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  const text = Math.abs(value) >= 1000 ? Math.round(value).toLocaleString('en-US') : value.toFixed(digits);
  return unit ? `${text} ${unit}` : text;
}
