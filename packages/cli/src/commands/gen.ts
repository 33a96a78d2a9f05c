import type { Command } from 'commander';
import { readBtfFile, VMLINUX } from '../btf-input.ts';
import type { Io } from '../io.ts';
import { dump, writeOutput } from './btf.ts';

/** `ebpf gen vmlinux`. */
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
}
