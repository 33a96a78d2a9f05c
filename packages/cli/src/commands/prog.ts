import { type Command, Option } from 'commander';
import { parseId } from '../errors.ts';
import { hexDump } from '../format/hex.ts';
import { renderFields, renderTable, tableWidth } from '../format/table.ts';
import { formatBytes, formatCount, formatDuration, formatWhen } from '../format/units.ts';
import { type Io, printJson } from '../io.ts';
import type { ProgDetails, ProgSummary } from '../kernel.ts';
import { jsonOption } from '../options.ts';

/** `ebpf prog list|show|dump`. */
export function registerProgCommands(program: Command, io: Io): void {
  const prog = program
    .command('prog')
    .description('programs loaded in the kernel (all of them, not only ours)');

  prog
    .command('list')
    .alias('ls')
    .description('list every loaded program')
    .addOption(jsonOption())
    .action(async (opts: { json?: boolean }) => {
      const kernel = await import('../kernel.ts');
      const progs = kernel.listPrograms();
      if (opts.json) return printJson(io, progs);
      io.out(
        renderTable(
          [
            { header: 'ID', cell: (p: ProgSummary) => String(p.id), align: 'right' },
            { header: 'TYPE', cell: (p) => p.type, shrink: true },
            { header: 'NAME', cell: (p) => p.name || '-', shrink: true },
            { header: 'TAG', cell: (p) => p.tag },
            { header: 'INSNS', cell: (p) => String(p.insnCount), align: 'right' },
            { header: 'JITED', cell: (p) => formatBytes(p.jitedSize), align: 'right' },
            { header: 'MAPS', cell: (p) => p.mapIds.join(',') || '-', shrink: true },
            { header: 'LOADED', cell: (p) => (p.loadedAt ? formatWhen(p.loadedAt) : '-') },
          ],
          progs,
          io.color,
          tableWidth(io),
        ),
      );
    });

  prog
    .command('show')
    .description('show one program, or every one, with the C prototypes of its functions (from its BTF)')
    .argument('[id]', 'program id (from `ebpf prog list`); all programs without it')
    .addOption(jsonOption())
    .action(async (idText: string | undefined, opts: { json?: boolean }) => {
      const id = idText === undefined ? undefined : parseId(idText, 'program id');
      const kernel = await import('../kernel.ts');
      const progs = kernel.showPrograms(id);
      if (opts.json) return printJson(io, id === undefined ? progs : progs[0]);
      io.out(progs.map((p) => renderFields(progFields(p), io.color)).join('\n'));
    });

  prog
    .command('dump')
    .description('print a program: its translated instructions (default) or its JIT image')
    .argument('<id>', 'program id')
    .addOption(
      new Option('--xlated', 'instructions after the verifier rewrote them (default)').conflicts('jited'),
    )
    .option(
      '--jited',
      'machine code from the JIT compiler (objdump disassembly when objdump is installed, else hex)',
    )
    .addOption(jsonOption())
    .action(async (idText: string, opts: { xlated?: boolean; jited?: boolean; json?: boolean }) => {
      const id = parseId(idText, 'program id');
      const kernel = await import('../kernel.ts');
      if (opts.jited) {
        const image = kernel.jitedImage(id);
        if (opts.json) return printJson(io, { id, jited: image });
        const text = kernel.objdumpJited(image);
        io.out(text ?? hexDump(image));
        return;
      }
      const { text, bytes } = kernel.xlatedText(id);
      if (opts.json) return printJson(io, { id, xlated: bytes, text: text.trimEnd().split('\n') });
      io.out(text.endsWith('\n') ? text : `${text}\n`);
    });
}

function progFields(p: ProgDetails): [string, string][] {
  const functions = p.functions.map((f, i): [string, string] => [
    i === 0 ? 'functions' : '',
    `${f.proto}  ; insn ${f.insn}`,
  ]);
  return [
    ['id', String(p.id)],
    ['type', p.type],
    ['name', p.name || '-'],
    ['tag', p.tag],
    ['instructions', `${p.insnCount} (${formatBytes(p.xlatedSize)} translated)`],
    ['jited', p.jitedSize ? formatBytes(p.jitedSize) : 'no'],
    ['maps', p.mapIds.join(', ') || '-'],
    ['btf', p.btfId ? String(p.btfId) : '-'],
    ...functions,
    ['loaded at', p.loadedAt ?? '-'],
    ['uid', p.uid === undefined ? '-' : String(p.uid)],
    ['runs', p.runCount === undefined ? '-' : formatCount(p.runCount)],
    ['run time', p.runTimeNs === undefined ? '-' : formatDuration(p.runTimeNs)],
  ];
}
