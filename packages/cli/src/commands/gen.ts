import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { readBtfFile, VMLINUX } from '../btf-input.ts';
import { CliError, ExitCode } from '../exit-codes.ts';
import { compileC, generateTypes } from '../gen/index.ts';
import type { Io } from '../io.ts';
import { repeatable } from '../options.ts';
import { dump, writeOutput } from './btf.ts';

interface GenTypesOptions {
  output?: string;
  type: string[];
  embed: boolean;
  include: string[];
  clang?: string;
}

/** The object's bytes and where it stays: `input` itself, or a C file built beside the output (or in a scratch folder when embedded). */
function buildInput(
  input: string,
  opts: GenTypesOptions,
  scratch: () => string,
): { bytes: Uint8Array; path: string } {
  let path = input;
  if (input.endsWith('.c')) {
    const object = `${basename(input, '.c')}.o`;
    path = opts.embed ? join(scratch(), object) : join(dirname(opts.output ?? object), object);
    mkdirSync(dirname(path), { recursive: true });
    compileC(input, path, { includes: opts.include, ...(opts.clang !== undefined && { clang: opts.clang }) });
  }
  try {
    return { bytes: readFileSync(path), path };
  } catch (error) {
    throw new CliError(
      `cannot read the object ${path} (${(error as { code?: string }).code ?? error})`,
      ExitCode.NotFound,
    );
  }
}

/** `ebpf gen vmlinux`, `ebpf gen types`. */
export function registerGenCommands(program: Command, io: Io): void {
  const gen = program.command('gen').description('generate code from BTF');

  gen
    .command('vmlinux')
    .description("write the running kernel's types as a C header for BPF programs (vmlinux.h)")
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .option('--btf <file>', 'BTF to read instead of the running kernel’s', VMLINUX)
    .action((opts: { output?: string; btf: string }) => {
      writeOutput(
        io,
        dump(readBtfFile(opts.btf), 'c', undefined).text,
        opts.output,
        `C types of ${opts.btf}`,
      );
    });

  gen
    .command('types')
    .description(
      'write a TypeScript module for an object (prog.o, or prog.c built with clang first): its types and codecs, spec() and a typed load()',
    )
    .argument('<object>', 'an ELF object built with clang -g, or a C file to build')
    .option('-o, --output <file>', 'write to this file instead of standard output')
    .option('--type <name>', 'also declare this struct, union, enum or typedef (repeatable)', repeatable, [])
    .option('--embed', 'embed the object in the module', true)
    .option('--no-embed', "read the object from beside the module instead (a C file's object is built there)")
    .option(
      '-I, --include <dir>',
      'with a C file: search this folder for headers (repeatable)',
      repeatable,
      [],
    )
    .option('--clang <path>', 'with a C file: the clang to run (default clang-16, else clang)')
    .action((input: string, opts: GenTypesOptions) => {
      let dir: string | undefined;
      const scratch = (): string => {
        dir ??= mkdtempSync(join(tmpdir(), 'ebpf-gen-'));
        return dir;
      };
      try {
        const { bytes, path } = buildInput(input, opts, scratch);
        const from = opts.output !== undefined ? dirname(resolve(opts.output)) : process.cwd();
        const objectPath = relative(from, resolve(path));
        const args = [
          input,
          ...(opts.output ? ['-o', opts.output] : []),
          ...opts.type.flatMap((t) => ['--type', t]),
        ];
        if (!opts.embed) args.push('--no-embed');
        for (const dir of opts.include) args.push('-I', dir);
        const text = generateTypes({
          object: bytes,
          name: basename(path).split('.')[0] ?? 'object',
          source: opts.embed
            ? { kind: 'embed' }
            : { kind: 'path', path: objectPath.startsWith('.') ? objectPath : `./${objectPath}` },
          types: opts.type,
          provenance: [`From ${input}: edit it instead, then run \`ebpf gen types ${args.join(' ')}\`.`],
        });
        writeOutput(io, text, opts.output, `TypeScript for ${input}`);
      } finally {
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      }
    });
}
