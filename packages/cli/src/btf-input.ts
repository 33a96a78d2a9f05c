/**
 * Where `ebpf btf` and `ebpf gen` read BTF from: a file (raw BTF such as
 * `/sys/kernel/btf/vmlinux`, or an ELF object's `.BTF`), or the types `--type` names in it.
 */
import { basename, dirname } from 'node:path';
import { Btf, type Type } from '@ebpf/btf';
import { kernelBtf } from '@ebpf/btf/node';
import { ElfFile } from '@ebpf/object';
import { readInput } from './commands/asm.ts';
import { CliError, ExitCode } from './exit-codes.ts';

export const VMLINUX = '/sys/kernel/btf/vmlinux';

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const isElf = (bytes: Uint8Array) => ELF_MAGIC.every((b, i) => bytes[i] === b);

/**
 * Parses the BTF of `path`. A module's file in `/sys/kernel/btf` is split BTF: it is parsed on
 * the kernel's own, as the kernel made it.
 */
export function readBtfFile(path: string): Btf {
  const bytes = new Uint8Array(readInput(path));
  const split = dirname(path) === dirname(VMLINUX) && basename(path) !== basename(VMLINUX);
  return parseOrExplain(path, () =>
    Btf.parse(isElf(bytes) ? elfBtf(path, bytes) : bytes, split ? { base: kernelBtf() } : {}),
  );
}

function elfBtf(path: string, bytes: Uint8Array): Uint8Array {
  const elf = ElfFile.parse(bytes);
  const section = elf.section('.BTF');
  if (section === undefined)
    throw new CliError(`${path} has no .BTF section: build it with clang -g`, ExitCode.NotFound);
  return elf.data(section);
}

/** Runs a parse, turning the format errors of `@ebpf/btf` and `@ebpf/object` into one line naming the file. */
export function parseOrExplain<T>(path: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof Error && (error.name === 'BtfError' || error.name === 'ObjectError'))
      throw new CliError(`${path}: ${error.message}`, ExitCode.Failure);
    throw error;
  }
}

/** The kinds a `--type` name may mean, and the C keyword that picks one (`struct task_struct`). */
const namedKinds = new Set(['struct', 'union', 'enum', 'enum64', 'typedef', 'fwd']);
const keywordKinds: Record<string, readonly string[]> = {
  struct: ['struct'],
  union: ['union'],
  enum: ['enum', 'enum64'],
};

/** The types `--type` names: `task_struct`, or `struct task_struct` to pick one kind. */
export function typesNamed(btf: Btf, names: readonly string[], where: string): Type[] {
  return names.flatMap((text) => {
    const [first, ...rest] = text.trim().split(/\s+/);
    const keyword = rest.length === 1 && first !== undefined ? keywordKinds[first] : undefined;
    const name = keyword ? rest[0]! : text.trim();
    const found = btf
      .typesByName(name)
      .filter((t) => (keyword ? keyword.includes(t.kind) : namedKinds.has(t.kind)));
    if (found.length === 0)
      throw new CliError(`${where} has no type named '${text}'`, ExitCode.NotFound, [
        'name a struct, union, enum or typedef (optionally as `struct NAME`)',
      ]);
    return found;
  });
}
