/**
 * `CollectionSpec.parse(bytes)`: everything an ELF object built by clang asks of the kernel,
 * as specs (programs linked, maps, global data, variables, externs), without a syscall.
 */
import { type Btf, BtfError } from '@ebpf/btf';
import { dictionary } from './dictionary.ts';
import { EM_BPF, ET_REL, STB_LOCAL, STT_FUNC, STV_HIDDEN, STV_INTERNAL } from './elf/constants.ts';
import { ElfFile } from './elf/elf.ts';
import { ObjectError } from './errors.ts';
import { readExterns } from './externs.ts';
import { readGlobals } from './globals.ts';
import { readMaps } from './maps.ts';
import { ObjectFile } from './object-file.ts';
import { readPrograms } from './programs.ts';
import type { ExternSpec, MapSpec, ProgramSpec, VariableSpec } from './spec.ts';

/** Options of {@link CollectionSpec.parse}. */
export interface CollectionParseOptions {
  /**
   * The object's name (libbpf: the file name up to its first `.`), which prefixes the kernel
   * names of `.data`, `.bss` and `.rodata` maps. Default: none.
   */
  readonly name?: string;
}

/**
 * Everything one ELF object describes, as plain data: its programs (relocated, linked), maps,
 * variables and externs, with their BTF. No fds: `Collection.load` in `@ebpf/core` turns a spec
 * into kernel objects.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { CollectionSpec } from '@ebpf/object';
 *
 * const spec = CollectionSpec.parse(readFileSync('prog.bpf.o'), { name: 'prog' });
 * for (const [name, program] of Object.entries(spec.programs)) console.log(name, program.section);
 * ```
 */
export class CollectionSpec {
  /** Use {@link CollectionSpec.parse}. */
  constructor(
    /** The object's name (see {@link CollectionParseOptions.name}); `''` when not given. */
    readonly name: string,
    /** The ELF's byte order (clang's `-target bpfel` or `bpfeb`). */
    readonly byteOrder: 'little' | 'big',
    /** Programs by C function name. */
    readonly programs: Readonly<Record<string, ProgramSpec>>,
    /** Maps by C name (global data by section name: `.bss`, `.rodata`). */
    readonly maps: Readonly<Record<string, MapSpec>>,
    /** Global variables by C name, to read or set before load. */
    readonly variables: Readonly<Record<string, VariableSpec>>,
    /** Externs (`__kconfig`, `__ksym`) by C name, resolved at load. */
    readonly externs: Readonly<Record<string, ExternSpec>>,
    /** The object's `.BTF`, when it has one. */
    readonly btf: Btf | undefined,
    /**
     * Global functions of hidden visibility (`__weak __hidden` helpers such as usdt.bpf.h's):
     * static to the object, so the loader marks their BTF static, as libbpf does, and the
     * verifier checks them with their callers' arguments.
     */
    readonly hiddenFunctions: ReadonlySet<string> = new Set(),
  ) {}

  /** Parses an ELF object; every malformed part is an {@link ObjectError} naming where it is. */
  static parse(bytes: Uint8Array, options: CollectionParseOptions = {}): CollectionSpec {
    const name = options.name ?? '';
    try {
      return parse(bytes, name);
    } catch (error) {
      // BTF is decoded lazily, so corrupt types surface wherever they are first read.
      if (error instanceof BtfError)
        throw new ObjectError(
          `is corrupt: ${error.message}`,
          { object: name, section: '.BTF' },
          { cause: error },
        );
      if (!(error instanceof ObjectError))
        throw new ObjectError(
          `cannot be parsed: ${String((error as Error)?.message ?? error)}`,
          { object: name },
          { cause: error },
        );
      if (error.object !== undefined || name === '') throw error;
      throw new ObjectError(error.reason, { ...error.where, object: name }, { cause: error });
    }
  }
}

function parse(bytes: Uint8Array, name: string): CollectionSpec {
  const elf = ElfFile.parse(bytes);
  if (elf.type !== ET_REL || elf.machine !== EM_BPF)
    throw new ObjectError(
      `is not a BPF relocatable object (ELF type ${elf.type}, machine ${elf.machine}); build it with clang -target bpf -c`,
      { offset: 16 },
    );
  const object = new ObjectFile(elf);
  const externs = readExterns(object);
  const globals = readGlobals(object, name, externs);
  const programs = readPrograms(object, {
    objectName: name,
    externs: externs.byName,
    records: (section) => object.ext?.section(section.name),
  });
  const maps = dictionary<MapSpec>();
  for (const map of [...readMaps(object), ...globals.maps]) {
    if (maps[map.name] !== undefined)
      throw new ObjectError(`two maps are named ${map.name}; rename one`, { object: name });
    maps[map.name] = map;
  }
  const variables = dictionary<VariableSpec>();
  for (const variable of globals.variables) variables[variable.name] ??= variable;
  return new CollectionSpec(
    name,
    elf.littleEndian ? 'little' : 'big',
    programs,
    maps,
    variables,
    Object.assign(dictionary<ExternSpec>(), Object.fromEntries(externs.byName)),
    object.btf,
    hiddenFunctions(object),
  );
}

function hiddenFunctions(object: ObjectFile): Set<string> {
  const names = new Set<string>();
  for (const s of object.symbols)
    if (
      s.type === STT_FUNC &&
      s.binding !== STB_LOCAL &&
      (s.visibility === STV_HIDDEN || s.visibility === STV_INTERNAL)
    )
      names.add(s.name);
  return names;
}
