/** The live table's text: one fixed-width row per exec, like the classic execsnoop's. */
import type { ExecEvent } from './execsnoop.ts';

const COLUMNS = [
  ['TIME(s)', 10],
  ['PID', 8],
  ['UID', 6],
  ['COMM', 17],
  ['FILENAME', 0],
] as const;

const row = (cells: readonly string[]): string =>
  cells.map((cell, i) => (COLUMNS[i]![1] > 0 ? cell.padEnd(COLUMNS[i]![1]) : cell)).join('');

export const header = (): string => row(COLUMNS.map(([name]) => name));

/** A row for `e`; its time in seconds since `startNs` (both CLOCK_MONOTONIC nanoseconds). */
export function formatRow(e: ExecEvent, startNs: bigint): string {
  const seconds = Number(e.timestamp_ns - startNs) / 1e9;
  return row([seconds.toFixed(3), String(e.pid), String(e.uid), e.comm, e.filename]);
}
