import type { Command } from 'commander';
import { renderTable } from '../format/table.ts';
import { type Io, printJson } from '../io.ts';
import { jsonOption } from '../options.ts';

/** Lays out words in lines of at most `width` columns, indented by two spaces. */
function wrap(words: readonly string[], width: number): string {
  let out = '';
  let line = ' ';
  for (const word of words) {
    if (line.length + 1 + word.length > width && line.trim() !== '') {
      out += `${line}\n`;
      line = ' ';
    }
    line += ` ${word}`;
  }
  return line.trim() === '' ? out : `${out}${line}\n`;
}

/** `ebpf feature`. */
export function registerFeatureCommand(program: Command, io: Io): void {
  program
    .command('feature')
    .alias('features')
    .description('what the running kernel supports: program, map and link types, helpers per program type')
    .option('--no-helpers', 'skip probing helpers per program type (the slow part)')
    .option('-t, --type <prog-type>', 'probe helpers for this program type only')
    .addOption(jsonOption())
    .action(async (opts: { json?: boolean; helpers: boolean; type?: string }) => {
      const { probeFeatures } = await import('../features.ts');
      const report = probeFeatures({ helpers: opts.helpers, ...(opts.type ? { progType: opts.type } : {}) });
      if (opts.json) return printJson(io, report);
      const c = io.color;
      const yes = c.green('yes');
      const no = c.dim('no');
      io.out(`${c.bold('kernel:')} ${report.kernel}\n\n`);
      const pairs = (record: Record<string, boolean>) =>
        Object.entries(record).map(([name, ok]) => ({ name, ok }));
      const cols = (title: string) => [
        { header: title, cell: (r: { name: string; ok: boolean }) => r.name },
        { header: 'SUPPORTED', cell: (r: { name: string; ok: boolean }) => (r.ok ? yes : no) },
      ];
      io.out(renderTable(cols('PROGRAM TYPE'), pairs(report.programTypes), c));
      io.out('\n');
      io.out(renderTable(cols('MAP TYPE'), pairs(report.mapTypes), c));
      io.out('\n');
      io.out(`${c.bold('link types known to this build:')} ${report.linkTypes.join(', ')}\n`);
      if (report.helpers) {
        io.out('\n');
        for (const [type, helpers] of Object.entries(report.helpers)) {
          io.out(`${c.bold(type)} ${c.dim(`(${helpers.length} helpers)`)}\n${wrap(helpers, io.columns)}`);
        }
        for (const [type, reason] of Object.entries(report.helpersNotProbed ?? {})) {
          io.out(`${c.bold(type)} ${c.dim('(helpers not probed)')}\n${wrap(reason.split(' '), io.columns)}`);
        }
      }
    });
}
