import type { Command } from 'commander';
import { parseId } from '../errors.ts';
import { renderFields, renderTable, tableWidth } from '../format/table.ts';
import { type Io, printJson } from '../io.ts';
import type { LinkSummary } from '../kernel.ts';
import { jsonOption } from '../options.ts';

/** `ebpf link list|show`. */
export function registerLinkCommands(program: Command, io: Io): void {
  const link = program.command('link').description('BPF links in the kernel (attachments of programs)');

  link
    .command('list')
    .alias('ls')
    .description('list every link')
    .addOption(jsonOption())
    .action(async (opts: { json?: boolean }) => {
      const kernel = await import('../kernel.ts');
      const links = kernel.listLinks();
      if (opts.json) return printJson(io, links);
      io.out(
        renderTable(
          [
            { header: 'ID', cell: (l: LinkSummary) => String(l.id), align: 'right' },
            { header: 'TYPE', cell: (l) => l.type, shrink: true },
            { header: 'PROG', cell: (l) => String(l.progId), align: 'right' },
            { header: 'DETAILS', cell: (l) => l.details || '-', shrink: true },
          ],
          links,
          io.color,
          tableWidth(io),
        ),
      );
    });

  link
    .command('show')
    .description('show one link')
    .argument('<id>', 'link id (from `ebpf link list`)')
    .addOption(jsonOption())
    .action(async (idText: string, opts: { json?: boolean }) => {
      const id = parseId(idText, 'link id');
      const kernel = await import('../kernel.ts');
      const l = kernel.showLink(id);
      if (opts.json) return printJson(io, l);
      io.out(
        renderFields(
          [
            ['id', String(l.id)],
            ['type', l.type],
            ['prog', String(l.progId)],
            ['details', l.details || '-'],
          ],
          io.color,
        ),
      );
    });
}
