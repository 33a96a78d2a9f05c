import type { Command } from 'commander';
import { parseId } from '../errors.ts';
import { renderFields, renderTable, tableWidth } from '../format/table.ts';
import { formatCount } from '../format/units.ts';
import { type Io, printJson } from '../io.ts';
import type { MapEntry, MapSummary } from '../kernel.ts';
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
    .description('show one map')
    .argument('<id>', 'map id (from `ebpf map list`)')
    .addOption(jsonOption())
    .action(async (idText: string, opts: { json?: boolean }) => {
      const id = parseId(idText, 'map id');
      const kernel = await import('../kernel.ts');
      const m = kernel.showMap(id);
      if (opts.json) return printJson(io, m);
      io.out(
        renderFields(
          [
            ['id', String(m.id)],
            ['type', m.type],
            ['name', m.name || '-'],
            ['key size', `${m.keySize} bytes`],
            ['value size', `${m.valueSize} bytes`],
            ['max entries', formatCount(m.maxEntries)],
            ['flags', m.flags ? `0x${m.flags.toString(16)}` : '0'],
            ['btf', m.btfId ? String(m.btfId) : '-'],
          ],
          io.color,
        ),
      );
    });

  map
    .command('dump')
    .description('print every entry of a map as hex (per-CPU maps: one value per CPU)')
    .argument('<id>', 'map id')
    .option('--limit <n>', 'stop after n entries', integerOption('--limit', 1), 10_000)
    .addOption(jsonOption())
    .action(async (idText: string, opts: { json?: boolean; limit: number }) => {
      const id = parseId(idText, 'map id');
      const kernel = await import('../kernel.ts');
      const dump = kernel.dumpMap(id, opts.limit);
      if (dump.kind === 'head') return printHead(io, dump.type, dump.head, opts.json === true);
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
function printHead(io: Io, type: string, head: Uint8Array | undefined, json: boolean): void {
  const note = `a ${type} map has no keys: the kernel lets one read only the ${type === 'queue' ? 'oldest' : 'newest'} element (the head) without removing it; the others cannot be shown without taking them out of the map`;
  if (json) {
    printJson(io, { type, head: head ?? null, note });
    return;
  }
  io.out(head ? `${io.color.bold('head:')} ${hexWords(head)}\n` : `${io.color.dim(`(empty ${type})`)}\n`);
  io.out(io.color.dim(`${note}\n`));
}

function formatEntry(e: MapEntry, io: Io): string {
  const key = `${io.color.bold('key:')} ${hexWords(e.key)}`;
  if (e.value === undefined) return `${key}\n`;
  if (Array.isArray(e.value))
    return `${key}\n${e.value.map((v, cpu) => `  ${io.color.dim(`cpu ${cpu}:`)} ${hexWords(v)}`).join('\n')}\n`;
  return `${key}  ${io.color.bold('value:')} ${hexWords(e.value as Uint8Array)}\n`;
}
