import type { Command } from 'commander';
import { parseId } from '../errors.ts';
import { type BtfValue, formatBtfValue } from '../format/btf-value.ts';
import { renderFields, renderTable, tableWidth } from '../format/table.ts';
import { formatCount } from '../format/units.ts';
import { type Io, printJson } from '../io.ts';
import type { MapDetails, MapEntry, MapHead, MapSummary } from '../kernel.ts';
import { integerOption, jsonOption } from '../options.ts';

/** Hex of bytes, grouped by 4 for readability: `01000000 02000000`. */
function hexWords(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  return hex.replace(/(.{8})(?=.)/g, '$1 ');
}

/** `ebpf map list|show|dump`. */
export function registerMapCommands(program: Command, io: Io): void {
  const map = program.command('map').description('maps in the kernel (all of them, not only ours)');

  map
    .command('list')
    .alias('ls')
    .description('list every map')
    .addOption(jsonOption())
    .action(async (opts: { json?: boolean }) => {
      const kernel = await import('../kernel.ts');
      const maps = kernel.listMaps();
      if (opts.json) return printJson(io, maps);
      io.out(
        renderTable(
          [
            { header: 'ID', cell: (m: MapSummary) => String(m.id), align: 'right' },
            { header: 'TYPE', cell: (m) => m.type, shrink: true },
            { header: 'NAME', cell: (m) => m.name || '-', shrink: true },
            { header: 'KEY', cell: (m) => `${m.keySize}B`, align: 'right' },
            { header: 'VALUE', cell: (m) => `${m.valueSize}B`, align: 'right' },
            { header: 'MAX', cell: (m) => formatCount(m.maxEntries), align: 'right' },
            { header: 'FLAGS', cell: (m) => (m.flags ? `0x${m.flags.toString(16)}` : '-') },
          ],
          maps,
          io.color,
          tableWidth(io),
        ),
      );
    });

  map
    .command('show')
    .description('show one map, or every one, with the BTF types of its key and value')
    .argument('[id]', 'map id (from `ebpf map list`); all maps without it')
    .addOption(jsonOption())
    .action(async (idText: string | undefined, opts: { json?: boolean }) => {
      const id = idText === undefined ? undefined : parseId(idText, 'map id');
      const kernel = await import('../kernel.ts');
      const maps = kernel.showMaps(id);
      if (opts.json) return printJson(io, id === undefined ? maps : maps[0]);
      io.out(maps.map((m) => renderFields(mapFields(m), io.color)).join('\n'));
    });

  map
    .command('dump')
    .summary('print every entry of a map (of a queue or stack, its head), decoded by BTF')
    .description(
      'print every entry of a map, decoded by its BTF (as bpftool does) or else as hex (per-CPU maps: one value per CPU); ' +
        'of a queue or stack, only its head, peeked without taking it (the others cannot be read without popping them), ' +
        'decoded by the value type in the BTF of a program that uses the map (the kernel keeps no BTF on these maps)',
    )
    .argument('<id>', 'map id')
    .option('--limit <n>', 'stop after n entries', integerOption('--limit', 1), 10_000)
    .addOption(jsonOption())
    .action(async (idText: string, opts: { json?: boolean; limit: number }) => {
      const id = parseId(idText, 'map id');
      const kernel = await import('../kernel.ts');
      const dump = kernel.dumpMap(id, opts.limit);
      if (dump.kind === 'head') return printHead(io, dump.type, dump.head, opts.json === true);
      if (dump.kind === 'unlisted')
        return printNote(io, { type: dump.type, note: unlistedNote(dump.type) }, opts.json === true);
      const { entries } = dump;
      if (opts.json) return printJson(io, entries);
      for (const e of entries) io.out(formatEntry(e, io));
      io.out(io.color.dim(`${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}\n`));
    });
}

/**
 * A queue or stack: the kernel reads its elements only by removing them, except the head, which
 * it lets one peek at. Says so, rather than pretend to list them.
 */
function printHead(io: Io, type: string, head: MapHead | undefined, json: boolean): void {
  const note = `a ${type} map has no keys: the kernel lets one read only the ${type === 'queue' ? 'oldest' : 'newest'} element (the head) without removing it; the others cannot be shown without taking them out of the map`;
  if (!json)
    io.out(
      head
        ? `${shown(io.color.bold('head:'), head.value, head.formatted?.value, io.columns)}\n`
        : `${io.color.dim(`(empty ${type})`)}\n`,
    );
  printNote(io, { type, head: head ?? null, note }, json);
}

/** Why a bloom filter or ring buffer has no entries to show. */
const unlistedNote = (type: string): string =>
  type === 'bloom_filter'
    ? 'a bloom_filter map holds no elements one can read back: it only answers whether a value may have been added'
    : `a ${type} map is a stream of records, not a table: read them as they come (RingBuffer in @ebpf/core)`;

/** A dump that is a note: the whole JSON object, or its note dimmed. */
function printNote(io: Io, dump: { note: string; [field: string]: unknown }, json: boolean): void {
  if (json) printJson(io, dump);
  else io.out(io.color.dim(`${dump.note}\n`));
}

/** A labelled key or value: decoded by BTF where it is, hex otherwise. */
const shown = (label: string, bytes: Uint8Array, decoded: BtfValue | undefined, width: number, indent = 0) =>
  `${label} ${decoded === undefined ? hexWords(bytes) : formatBtfValue(decoded, width, indent)}`;

/**
 * One entry: decoded by BTF where the map has it (on one line when it fits, else indented), hex
 * otherwise.
 */
function formatEntry(e: MapEntry, io: Io): string {
  const width = io.columns;
  const { formatted } = e;
  const key = shown(io.color.bold('key:'), e.key, formatted?.key, width);
  if (e.value === undefined) return `${key}\n`;
  if (Array.isArray(e.value)) {
    const cpus = e.value.map((v, cpu) =>
      shown(`  ${io.color.dim(`cpu ${cpu}:`)}`, v, formatted?.values?.[cpu]?.value, width, 2),
    );
    return `${key}\n${cpus.join('\n')}\n`;
  }
  const value = shown(io.color.bold('value:'), e.value, formatted?.value, width);
  return formatted === undefined || `${key}  ${value}`.length <= width
    ? `${key}  ${value}\n`
    : `${key}\n${value}\n`;
}

/** `8 bytes (struct flow, BTF type 8)`, or the size alone without BTF. */
const typedSize = (size: number, type: string | undefined, typeId: number) =>
  `${size} bytes${type ? ` (${type}, BTF type ${typeId})` : ''}`;

function mapFields(m: MapDetails): [string, string][] {
  return [
    ['id', String(m.id)],
    ['type', m.type],
    ['name', m.name || '-'],
    ['key', typedSize(m.keySize, m.keyType, m.btfKeyTypeId)],
    ['value', typedSize(m.valueSize, m.valueType, m.btfValueTypeId)],
    ['max entries', formatCount(m.maxEntries)],
    ['flags', m.flags ? `0x${m.flags.toString(16)}` : '0'],
    ['btf', m.btfId ? String(m.btfId) : '-'],
  ];
}
