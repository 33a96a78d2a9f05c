import type { Btf } from '@ebpf/btf';
import { readBtfFile } from '../btf-input.ts';
import { parseId } from '../errors.ts';
import { renderFields, renderTable, tableWidth } from '../format/table.ts';
import { formatBytes, formatCount } from '../format/units.ts';
import { type Io, printJson } from '../io.ts';
import type { BtfSummary } from '../kernel-btf.ts';

/** What `ebpf btf show FILE` and `ebpf object show` say of BTF. */
export interface BtfStats {
  byteOrder: 'little' | 'big';
  /** Types of this BTF (for split BTF, not the base's). */
  types: number;
  /** Id of its first type: above 1 for split BTF. */
  firstId: number;
  /** Types by kind, most common first. */
  kinds: Record<string, number>;
  /** Bytes of its string section. */
  stringsSize: number;
}

/** Counts `btf`'s types by kind. */
export function btfStats(btf: Btf): BtfStats {
  const counts = new Map<string, number>();
  for (const t of btf.types()) counts.set(t.kind, (counts.get(t.kind) ?? 0) + 1);
  const kinds = Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  return {
    byteOrder: btf.littleEndian ? 'little' : 'big',
    types: btf.count,
    firstId: btf.firstId,
    kinds,
    stringsSize: btf.strings.bytes.length,
  };
}

/** `ebpf btf show [id|file]`. */
export async function showBtf(io: Io, source: string | undefined, json: boolean): Promise<void> {
  if (source !== undefined && !/^\d+$/.test(source)) {
    const summary = { file: source, ...btfStats(readBtfFile(source)) };
    if (json) return printJson(io, summary);
    io.out(
      renderFields(
        [
          ['file', summary.file],
          ['byte order', summary.byteOrder],
          [
            'types',
            `${formatCount(summary.types)}${summary.firstId > 1 ? ` (ids from ${summary.firstId})` : ''}`,
          ],
          ['strings', formatBytes(summary.stringsSize)],
          ...Object.entries(summary.kinds).map(([kind, n]) => [`  ${kind}`, formatCount(n)] as const),
        ],
        io.color,
      ),
    );
    return;
  }
  const { listBtf } = await import('../kernel-btf.ts');
  const objects = listBtf(source === undefined ? undefined : parseId(source, 'BTF id'));
  if (json) return printJson(io, source === undefined ? objects : objects[0]);
  io.out(
    renderTable(
      [
        { header: 'ID', cell: (b: BtfSummary) => String(b.id), align: 'right' },
        { header: 'NAME', cell: (b) => b.name || '-', shrink: true },
        { header: 'SIZE', cell: (b) => formatBytes(b.size), align: 'right' },
        { header: 'KERNEL', cell: (b) => (b.kernel ? 'yes' : 'no') },
        { header: 'PROGS', cell: (b) => b.progIds.join(',') || '-', shrink: true },
        { header: 'MAPS', cell: (b) => b.mapIds.join(',') || '-', shrink: true },
      ],
      objects,
      io.color,
      tableWidth(io),
    ),
  );
}
