import Table from 'cli-table3';
import type { Colors } from '../io.ts';

/** One column of a {@link renderTable} table. */
export interface Column<Row> {
  /** Header text. */
  readonly header: string;
  /** The cell text of a row. */
  readonly cell: (row: Row) => string;
  /** Right-align numbers. */
  readonly align?: 'left' | 'right';
}

const borderless = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/**
 * Renders rows as an aligned, borderless table (the layout of `ip` and `bpftool`), the header
 * in bold. Returns the text with a trailing newline, or an empty string for no rows.
 */
export function renderTable<Row>(
  columns: readonly Column<Row>[],
  rows: readonly Row[],
  color: Colors,
): string {
  const table = new Table({
    head: columns.map((c) => color.bold(c.header)),
    chars: borderless,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    colAligns: columns.map((c) => c.align ?? 'left'),
  });
  for (const row of rows) table.push(columns.map((c) => c.cell(row)));
  return `${table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')}\n`;
}

/** Renders `key: value` pairs, keys aligned, for `show` commands. */
export function renderFields(fields: ReadonlyArray<readonly [string, string]>, color: Colors): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${color.bold(`${k}:`.padEnd(width + 1))} ${v}\n`).join('');
}
