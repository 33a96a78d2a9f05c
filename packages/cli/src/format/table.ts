import { stripVTControlCharacters } from 'node:util';
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
  /**
   * The column may be cut (ending in `…`) when the table is wider than the terminal: names,
   * lists and details, never ids or tags.
   */
  readonly shrink?: boolean;
}

const gap = 2;

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
  middle: ' '.repeat(gap),
};

/**
 * Renders rows as an aligned, borderless table (the layout of `ip` and `bpftool`), the header
 * in bold. With `width` (the terminal's, on a TTY), columns marked `shrink` are cut, widest
 * first, until the table fits. Returns the text with a trailing newline.
 */
export function renderTable<Row>(
  columns: readonly Column<Row>[],
  rows: readonly Row[],
  color: Colors,
  width?: number,
): string {
  const cells = rows.map((row) => columns.map((c) => c.cell(row)));
  const widths = fitWidths(
    columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => visibleLength(r[i] ?? '')))),
    columns.map((c) => (c.shrink ? Math.min(c.header.length + 2, 8) : Number.POSITIVE_INFINITY)),
    width,
  );
  const table = new Table({
    head: columns.map((c) => color.bold(c.header)),
    chars: borderless,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
    colAligns: columns.map((c) => c.align ?? 'left'),
    ...(widths ? { colWidths: widths, truncate: '…' } : {}),
  });
  for (const row of cells) table.push(row);
  return `${table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')}\n`;
}

function visibleLength(text: string): number {
  return [...stripVTControlCharacters(text)].length;
}

/**
 * Column widths that fit `width`, cutting the widest column that may shrink (down to its
 * minimum) one character at a time; undefined when the table fits as it is (or no width).
 */
export function fitWidths(
  natural: readonly number[],
  minimum: readonly number[],
  width: number | undefined,
): number[] | undefined {
  if (width === undefined) return undefined;
  const widths = [...natural];
  let excess = widths.reduce((sum, w) => sum + w, 0) + gap * (widths.length - 1) - width;
  if (excess <= 0) return undefined;
  while (excess > 0) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++)
      if ((widths[i] ?? 0) > (minimum[i] ?? 0) && (widest < 0 || (widths[i] ?? 0) > (widths[widest] ?? 0)))
        widest = i;
    if (widest < 0) break; // nothing left to cut: the terminal wraps what remains
    widths[widest] = (widths[widest] ?? 0) - 1;
    excess--;
  }
  return widths;
}

/** The width tables must fit: the terminal's on a TTY; unlimited into a pipe (scripts get everything). */
export function tableWidth(io: { readonly isTTY: boolean; readonly columns: number }): number | undefined {
  return io.isTTY ? io.columns : undefined;
}

/** Renders `key: value` pairs, keys aligned, for `show` commands; an empty key continues the one above. */
export function renderFields(fields: ReadonlyArray<readonly [string, string]>, color: Colors): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length));
  return fields
    .map(([k, v]) => `${k === '' ? ' '.repeat(width + 1) : color.bold(`${k}:`.padEnd(width + 1))} ${v}\n`)
    .join('');
}
