import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Btf, toTypeScript } from '@ebpf/btf';
import { type Command, Option } from 'commander';
import { parseOrExplain, readBtfFile, typesNamed, VMLINUX } from '../btf-input.ts';
import { parseId } from '../errors.ts';
import { type Io, printJson } from '../io.ts';
import { jsonOption, repeatable } from '../options.ts';

/** A BTF source as the commands take it: a kernel BTF object id (all digits) or a file. */
async function openBtf(source: string): Promise<{ btf: Btf; where: string }> {
  if (!/^\d+$/.test(source)) return { btf: readBtfFile(source), where: source };
  const id = parseId(source, 'BTF id');
  const { btfById } = await import('../kernel-btf.ts');
  return { btf: btfById(id), where: `BTF object ${id}` };
}

const valueless = new Set(['func_proto', 'fwd', 'void']);

/**
 * Every named struct, union, enum and typedef: what a whole TypeScript dump declares. Typedefs
 * of function types (`typedef int fn_t(void)`), of declared-only structs and of void are left
 * out: no value has such a type.
 */
function declarable(btf: Btf): number[] {
  const ids: number[] = [];
  for (const t of btf.types()) {
    if (t.name === '' || !['struct', 'union', 'enum', 'enum64', 'typedef'].includes(t.kind)) continue;
    if (t.kind === 'typedef' && valueless.has(btf.resolve(t.id).kind)) continue;
    ids.push(t.id);
  }
  return ids;
}

/**
 * A dump: C (a vmlinux.h, as bpftool writes it) or TypeScript declarations, with their layouts
 * (what `--json` prints of a TypeScript dump).
 */
export function dump(btf: Btf, format: 'c' | 'ts', types: readonly number[] | undefined) {
  if (format === 'c') return { text: btf.toC(types ? { types } : {}) };
  const out = toTypeScript(btf, types ?? declarable(btf));
  return { text: `${out.code}\n`, declarations: out.declarations };
}

/** Writes `text` to `output` (making its folder, as `-o gen/prog.gen.ts` expects), or to standard output. */
export function writeOutput(io: Io, text: string, output: string | undefined, what: string): void {
  if (output === undefined) {
    io.out(text);
    return;
  }
  mkdirSync(dirname(output), { recursive: true });
  writeFileSync(output, text);
  io.err(`${output}: ${what}, ${text.split('\n').length - 1} lines\n`);
}

interface DumpOptions {
  format: 'c' | 'ts';
  type?: string[];
  output?: string;
  json?: boolean;
}

/** `ebpf btf dump|show`. */
export function registerBtfCommands(program: Command, io: Io): void {
  const btf = program.command('btf').description('BTF type information: the kernel’s, an object’s, a file’s');

  btf
    .command('dump')
    .description('print BTF types as C (a vmlinux.h, like `bpftool btf dump ... format c`) or TypeScript')
    .argument('[source]', `BTF object id or file (raw BTF or an ELF object's .BTF)`, VMLINUX)
    .addOption(new Option('--format <format>', 'output language').choices(['c', 'ts']).default('c'))
    .option(
      '--type <name>',
      'only this type and what it needs (`task_struct`, `struct task_struct`; repeatable)',
      repeatable,
    )
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .addOption(jsonOption())
    .action(async (source: string, opts: DumpOptions) => {
      const { btf: types, where } = await openBtf(source);
      const only = opts.type && typesNamed(types, opts.type, where).map((t) => t.id);
      const result = parseOrExplain(where, () => dump(types, opts.format, only));
      if (opts.json) return printJson(io, { source: where, format: opts.format, ...result });
      writeOutput(
        io,
        result.text,
        opts.output,
        `${opts.format === 'c' ? 'C' : 'TypeScript'} types of ${where}`,
      );
    });

  btf
    .command('show')
    .description('list the kernel’s BTF objects (or one by id), or summarise a BTF file')
    .argument('[source]', 'BTF object id, or a file (raw BTF or an ELF object)')
    .addOption(jsonOption())
    .action(async (source: string | undefined, opts: { json?: boolean }) => {
      const { showBtf } = await import('./btf-show.ts');
      await showBtf(io, source, opts.json === true);
    });
}
