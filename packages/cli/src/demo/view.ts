import { renderTable } from '../format/table.ts';
import { bar, formatBytes, formatCount } from '../format/units.ts';
import type { Colors } from '../io.ts';
import { type Counters, protocolSlots, type SlotKey } from './slots.ts';

/** One row of the live table. */
export interface Row {
  readonly key: SlotKey;
  readonly label: string;
  readonly packets: bigint;
  readonly bytes: bigint;
  /** Packets per second over the last interval. */
  readonly rate: number;
  /** Bytes per second over the last interval. */
  readonly byteRate: number;
}

/** Rows from the current counters and the previous ones, `seconds` apart. */
export function rows(now: Counters, before: Counters, seconds: number): Row[] {
  return protocolSlots.map(({ key, label }) => {
    const dp = Number(now[key].packets - before[key].packets);
    const db = Number(now[key].bytes - before[key].bytes);
    return {
      key,
      label,
      packets: now[key].packets,
      bytes: now[key].bytes,
      rate: seconds > 0 ? dp / seconds : 0,
      byteRate: seconds > 0 ? db / seconds : 0,
    };
  });
}

/** What the header line of the live view says. */
export interface ViewHeader {
  readonly iface: string;
  readonly mode: string;
  readonly progId: number;
  readonly linkId: number | undefined;
  readonly elapsed: number;
  readonly duration: number | undefined;
  /** The run is over and the program detached: the footer says so instead of "Ctrl-C to stop". */
  readonly done?: boolean;
}

/** Renders the live view: a header, the table with a bar of each protocol's share of packets, a footer. */
export function renderView(
  header: ViewHeader,
  table: readonly Row[],
  color: Colors,
  columns: number,
): string {
  const totalPackets = table.reduce((sum, r) => sum + r.packets, 0n);
  const barWidth = Math.max(10, Math.min(30, columns - 70));
  const text = renderTable(
    [
      { header: 'PROTOCOL', cell: (r: Row) => r.label },
      { header: 'PACKETS', cell: (r) => formatCount(r.packets), align: 'right' },
      { header: 'BYTES', cell: (r) => formatBytes(r.bytes), align: 'right' },
      { header: 'PKT/S', cell: (r) => formatCount(Math.round(r.rate)), align: 'right' },
      { header: 'BYTES/S', cell: (r) => `${formatBytes(Math.round(r.byteRate))}`, align: 'right' },
      {
        header: 'SHARE',
        cell: (r) => {
          const f = totalPackets === 0n ? 0 : Number(r.packets) / Number(totalPackets);
          return `${color.cyan(bar(f, barWidth).padEnd(barWidth))} ${(f * 100).toFixed(0).padStart(3)}%`;
        },
      },
    ],
    table,
    color,
  );
  const when = header.done
    ? `ran ${header.elapsed.toFixed(1)}s, detached from ${header.iface}; rates are averages over the run`
    : header.duration === undefined
      ? `${header.elapsed.toFixed(0)}s, Ctrl-C to stop`
      : `${header.elapsed.toFixed(0)}s of ${header.duration}s, Ctrl-C to stop`;
  const title =
    `${color.bold('XDP packet counter')} on ${color.green(header.iface)} (${header.mode} mode), ` +
    `prog id ${header.progId}${header.linkId === undefined ? '' : `, link id ${header.linkId}`}`;
  return `${title}\n${color.dim(when)}\n\n${text}`;
}
