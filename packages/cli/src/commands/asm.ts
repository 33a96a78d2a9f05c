import { readFileSync, writeFileSync } from 'node:fs';
import {
  assemble,
  assembleProgram,
  disassemble,
  elfObjectReason,
  isElfObject,
  type Program,
} from '@ebpf/asm';
import type { Command } from 'commander';
import { CliError, ExitCode } from '../exit-codes.ts';
import { type Io, printJson } from '../io.ts';
import { jsonOption } from '../options.ts';

/** Reads a whole file, or standard input for `-`, turning a missing file into a clear error. */
export function readInput(path: string): Buffer {
  try {
    return readFileSync(path === '-' ? 0 : path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      `cannot read ${path === '-' ? 'standard input' : path}: ${code ?? (error as Error).message}`,
      code === 'ENOENT' ? ExitCode.NotFound : ExitCode.Failure,
    );
  }
}

/** Assembles source text, prefixing errors with the file name (`prog.s:3:7: ...`). */
export function assembleFile(path: string, text: string): Uint8Array {
  return located(path, () => assemble(text));
}

/** Assembles and links source text, keeping its map references for the loader to fill. */
export function assembleFileProgram(path: string, text: string): Program {
  return located(path, () => assembleProgram(text));
}

function located<T>(path: string, assembleText: () => T): T {
  try {
    return assembleText();
  } catch (error) {
    if (error instanceof Error && error.name === 'AssembleError')
      throw new CliError(`${path}:${error.message}`, ExitCode.Rejected);
    throw error;
  }
}

/**
 * Checks that file bytes are raw bytecode: whole 8-byte instructions, and not an ELF object
 * (which holds bytecode in sections, beside maps and relocations).
 */
export function checkBytecode(path: string, bytes: Uint8Array): Uint8Array {
  if (isElfObject(bytes)) throw new CliError(`${path}: ${elfObjectReason}`, ExitCode.Usage);
  if (bytes.length === 0 || bytes.length % 8 !== 0)
    throw new CliError(
      `${path}: ${bytes.length} bytes is not a whole number of 8-byte instructions`,
      ExitCode.Rejected,
    );
  return bytes;
}

/** Whether `bytes` look like assembly text rather than bytecode: UTF-8 text with no NUL byte. */
export function looksLikeText(bytes: Uint8Array): boolean {
  return bytes.length > 0 && !bytes.includes(0);
}

/** `ebpf asm` and `ebpf disasm`. */
export function registerAsmCommands(program: Command, io: Io): void {
  program
    .command('asm')
    .description('assemble LLVM-syntax BPF assembly into bytecode (8 bytes per instruction, host order)')
    .argument('<file.s>', "assembly source ('-' for standard input)")
    .option('-o, --output <file>', 'write the bytecode to this file')
    .option('--hex', 'print the bytecode as hex, one instruction a line (default on a terminal)')
    .addOption(jsonOption())
    .action((file: string, opts: { output?: string; hex?: boolean; json?: boolean }) => {
      const text = readInput(file).toString('utf8');
      const bytes = assembleFile(file, text);
      if (opts.output !== undefined) {
        writeFileSync(opts.output, bytes);
        if (!opts.json) io.err(`${opts.output}: ${bytes.length / 8} instructions, ${bytes.length} bytes\n`);
      }
      if (opts.json) return printJson(io, { instructions: bytes.length / 8, bytecode: bytes });
      if (opts.output !== undefined) return;
      if (opts.hex || io.isTTY) {
        const hex = Buffer.from(bytes).toString('hex');
        for (let i = 0; i < hex.length; i += 16)
          io.out(`${hex.slice(i, i + 16).replace(/(..)(?=.)/g, '$1 ')}\n`);
        return;
      }
      io.stdout.write(bytes);
    });

  program
    .command('disasm')
    .description('disassemble bytecode into LLVM-syntax BPF assembly')
    .argument('<file.bin>', "bytecode file ('-' for standard input)")
    .option(
      '--llvm',
      'print each instruction exactly as llvm-objdump-16 -d does (for diffing; may not reassemble)',
    )
    .addOption(jsonOption())
    .action((file: string, opts: { llvm?: boolean; json?: boolean }) => {
      const bytes = checkBytecode(file, new Uint8Array(readInput(file)));
      const text = disassemble(bytes, { syntax: opts.llvm ? 'llvm-objdump' : 'roundtrip' });
      if (opts.json)
        return printJson(io, { instructions: bytes.length / 8, text: text.trimEnd().split('\n') });
      io.out(text.endsWith('\n') ? text : `${text}\n`);
    });
}
