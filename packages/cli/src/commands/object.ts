import type { AutoAttachOptions } from '@ebpf/core';
import type { Command } from 'commander';
import { usage } from '../errors.ts';
import { renderFields, renderTable, tableWidth } from '../format/table.ts';
import { formatBytes, formatCount } from '../format/units.ts';
import { type Io, printJson } from '../io.ts';
import type { LoadedObject } from '../kernel-object.ts';
import {
  type MapSummary,
  type ObjectSummary,
  type ProgramSummary,
  type Relocation,
  summarizeObject,
  type VariableSummary,
} from '../object-summary.ts';
import { jsonOption } from '../options.ts';

/** `ebpf object show|load`. */
export function registerObjectCommands(program: Command, io: Io): void {
  const object = program.command('object').description('ELF objects built by clang (-target bpf)');

  object
    .command('show')
    .description('list the programs, maps, variables and BTF of an object, without loading it')
    .argument('<file.o>', 'ELF object')
    .option('--relocs', 'also list what each instruction refers to by name (maps, kfuncs, externs, CO-RE)')
    .addOption(jsonOption())
    .action((file: string, opts: { relocs?: boolean; json?: boolean }) => {
      const summary = summarizeObject(file, opts.relocs === true);
      if (opts.json) return printJson(io, summary);
      io.out(objectText(summary, io));
    });

  object
    .command('load')
    .description("load an object's maps and programs into the kernel (Collection.load), and attach them")
    .argument('<file.o>', 'ELF object')
    .option(
      '--pin <dir>',
      'pin programs at DIR/<name>, maps at DIR/maps/<name> and links at DIR/links/<name> (on bpffs; . in names becomes _) so they stay loaded',
    )
    .option(
      '--attach',
      'attach each program where its section says (tp/..., raw_tp/..., xdp, tcx/ingress, cgroup_skb/egress...); without --pin, holds them until Ctrl-C',
    )
    .option('--iface <name>', 'with --attach: the interface of xdp and tc/tcx programs (name or index)')
    .option('--cgroup <path>', 'with --attach: the cgroup of cgroup programs (e.g. /sys/fs/cgroup)')
    .option('--netns <path>', 'with --attach: the network namespace of sk_lookup and flow_dissector programs')
    .addOption(jsonOption())
    .action(async (file: string, opts: LoadFlags) => {
      const { loadObject } = await import('../kernel-object.ts');
      const attach = attachOptions(opts);
      const hold = attach !== undefined && opts.pin === undefined;
      await loadObject(file, {
        ...(opts.pin !== undefined && { pinDir: opts.pin }),
        ...(attach && { attach }),
        whileLoaded: async (loaded) => {
          printLoaded(io, loaded, opts.json === true);
          const attached = (loaded.links?.length ?? 0) > 0;
          const note = !hold
            ? opts.pin === undefined &&
              'loaded, then closed again: nothing stays in the kernel (--pin DIR keeps it)'
            : attached
              ? 'attached: Ctrl-C detaches and unloads everything'
              : "nothing to attach: no program's section says where it goes";
          if (note && !opts.json) io.out(io.color.dim(`${note}\n`));
          if (hold && attached) await untilSignal();
        },
      });
    });
}

interface LoadFlags {
  pin?: string;
  attach?: boolean;
  iface?: string;
  cgroup?: string;
  netns?: string;
  json?: boolean;
}

/** What `--attach` passes to auto-attach; the options of where are refused without it. */
function attachOptions(opts: LoadFlags): AutoAttachOptions | undefined {
  const where = {
    ...(opts.iface !== undefined && {
      interface: /^\d+$/.test(opts.iface) ? Number(opts.iface) : opts.iface,
    }),
    ...(opts.cgroup !== undefined && { cgroup: opts.cgroup }),
    ...(opts.netns !== undefined && { netns: opts.netns }),
  };
  if (opts.attach) return where;
  if (Object.keys(where).length > 0)
    usage('--iface, --cgroup and --netns say where --attach attaches: add --attach');
  return undefined;
}

function printLoaded(io: Io, loaded: LoadedObject, json: boolean): void {
  if (json) {
    printJson(io, loaded);
    return;
  }
  const rows = [
    ...loaded.programs.map((p) => ({ ...p, kind: 'program' })),
    ...loaded.maps.map((m) => ({ ...m, kind: 'map' })),
    ...(loaded.links ?? []).map((l) => ({ ...l, kind: 'link' })),
  ];
  io.out(
    renderTable(
      [
        { header: 'KIND', cell: (r: (typeof rows)[number]) => r.kind },
        { header: 'NAME', cell: (r) => r.name, shrink: true },
        { header: 'ID', cell: (r) => String(r.id), align: 'right' },
        { header: 'TYPE', cell: (r) => r.type },
        { header: 'PIN', cell: (r) => r.pin ?? '-', shrink: true },
      ],
      rows,
      io.color,
      tableWidth(io),
    ),
  );
}

/**
 * Resolves at the first SIGINT, SIGTERM or SIGHUP (a second one then ends the process as
 * usual). A timer keeps the process alive meanwhile: signal handlers alone do not.
 */
function untilSignal(): Promise<NodeJS.Signals> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  return new Promise((resolve) => {
    const alive = setInterval(() => {}, 1 << 30);
    const stop = (signal: NodeJS.Signals) => {
      clearInterval(alive);
      for (const s of signals) process.off(s, stop);
      resolve(signal);
    };
    for (const s of signals) process.on(s, stop);
  });
}

/** Sections of `object show`, each a bold title over a table (or `none`). */
function objectText(s: ObjectSummary, io: Io): string {
  const width = tableWidth(io);
  const section = <Row>(title: string, table: Parameters<typeof renderTable<Row>>[0], rows: readonly Row[]) =>
    `\n${io.color.bold(title)}\n${rows.length === 0 ? io.color.dim('none\n') : renderTable(table, rows, io.color, width)}`;
  const btf = s.btf;
  let text = renderFields(
    [
      ['object', `${s.file} (${s.name || '-'})`],
      ['byte order', s.byteOrder],
      ['btf', btf ? `${formatCount(btf.types)} types, ${formatBytes(btf.stringsSize)} of strings` : '-'],
    ],
    io.color,
  );
  text += section<ProgramSummary>(
    'PROGRAMS',
    [
      { header: 'NAME', cell: (p) => p.name, shrink: true },
      { header: 'SECTION', cell: (p) => p.section, shrink: true },
      { header: 'TYPE', cell: (p) => p.type },
      { header: 'ATTACH', cell: (p) => p.attachType ?? '-', shrink: true },
      { header: 'INSNS', cell: (p) => String(p.instructions), align: 'right' },
      { header: 'SIZE', cell: (p) => formatBytes(p.size), align: 'right' },
      { header: 'NOTE', cell: programNote, shrink: true },
    ],
    s.programs,
  );
  text += section<MapSummary>(
    'MAPS',
    [
      { header: 'NAME', cell: (m) => m.name, shrink: true },
      { header: 'TYPE', cell: (m) => m.type },
      { header: 'KEY', cell: (m) => typed(m.keySize, m.keyType), shrink: true },
      { header: 'VALUE', cell: (m) => typed(m.valueSize, m.valueType), shrink: true },
      { header: 'MAX', cell: (m) => formatCount(m.maxEntries), align: 'right' },
      { header: 'FLAGS', cell: (m) => (m.flags ? `0x${m.flags.toString(16)}` : '-') },
      { header: 'PINNING', cell: (m) => m.pinning },
    ],
    s.maps,
  );
  text += section<VariableSummary>(
    'VARIABLES',
    [
      { header: 'NAME', cell: (v) => v.name, shrink: true },
      { header: 'SECTION', cell: (v) => v.section },
      { header: 'OFFSET', cell: (v) => String(v.offset), align: 'right' },
      { header: 'SIZE', cell: (v) => String(v.size), align: 'right' },
      { header: 'TYPE', cell: (v) => v.type, shrink: true },
    ],
    s.variables,
  );
  if (s.externs.length > 0)
    text += section(
      'EXTERNS',
      [
        { header: 'NAME', cell: (e: ObjectSummary['externs'][number]) => e.name, shrink: true },
        { header: 'KIND', cell: (e) => e.kind },
        { header: 'WEAK', cell: (e) => (e.weak ? 'yes' : 'no') },
        { header: 'TYPE', cell: (e) => e.type, shrink: true },
      ],
      s.externs,
    );
  if (s.relocations)
    text += section<Relocation>(
      'RELOCATIONS',
      [
        { header: 'PROGRAM', cell: (r) => r.program, shrink: true },
        { header: 'INSN', cell: (r) => String(r.insn), align: 'right' },
        { header: 'KIND', cell: (r) => r.coreKind ?? r.kind },
        { header: 'TARGET', cell: relocationTarget, shrink: true },
      ],
      s.relocations,
    );
  return text;
}

const programNote = (p: ProgramSummary): string =>
  [p.autoload ? '' : 'not autoloaded', p.attachTo ? `to ${p.attachTo}` : '', p.problem ?? '']
    .filter(Boolean)
    .join('; ') || '-';

/** `8B (struct event)`. */
const typed = (size: number, type: string | undefined): string => (type ? `${size}B (${type})` : `${size}B`);

function relocationTarget(r: Relocation): string {
  if (r.kind === 'map_value') return `${r.target} + ${r.offset ?? 0}`;
  if (r.kind === 'core') return `${r.target} ${r.accessString ?? ''}`.trimEnd();
  return r.target;
}
