/**
 * Specs: plain data describing what an object asks the kernel for, before anything is loaded.
 * No fds, no codecs, no Node-only imports. `@ebpf/core` turns a `CollectionSpec` into a
 * `Collection` (maps created, programs loaded); options that only matter at load time (pin
 * paths, replacement maps, codecs) are load options, never spec fields.
 */
import type { Instruction } from '@ebpf/asm';
import type { Type, TypeId } from '@ebpf/btf';
import type { ObjectError } from './errors.ts';

/** How libbpf pins a map (`__uint(pinning, LIBBPF_PIN_BY_NAME)`). */
export type MapPinning = 'none' | 'by_name';

/** One static initialiser of a map: raw key and value, or a slot of a prog array / map of maps. */
export type MapContent =
  | { readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly key: number; readonly program: string }
  | { readonly key: number; readonly map: string };

/** A map as the object declares it (`.maps`, legacy `maps`, or a global data section). */
export interface MapSpec {
  /** The C name; for global data the section name (`.bss`, `.rodata.str`). */
  readonly name: string;
  /** The name the kernel object gets (15 characters at most, libbpf's naming for globals). */
  readonly kernelName: string;
  /** The names `BpfMap.create` takes: `'hash'`, `'array'`, `'perf_event_array'`... */
  readonly type: string;
  /** Bytes of a key. */
  readonly keySize: number;
  /** Bytes of a value. */
  readonly valueSize: number;
  /** 0 for a `PERF_EVENT_ARRAY` means "one slot per possible CPU", filled in at load. */
  readonly maxEntries: number;
  /** `BPF_F_*` map flags. */
  readonly flags: number;
  /** NUMA node to allocate the map on (`__uint(numa_node, N)`, with `BPF_F_NUMA_NODE`). */
  readonly numaNode?: number;
  /** `map_extra`: the hash count of a bloom filter, the address of an arena. */
  readonly mapExtra?: bigint;
  /** Whether `Collection.load` pins it by name under its `pinPath`. */
  readonly pinning: MapPinning;
  /** Template of the maps a map of maps holds (`__array(values, struct {...})`). */
  readonly innerMap?: MapSpec;
  /** Key and value types from BTF (undefined for legacy maps or `__uint(key_size, 4)`). */
  readonly keyType?: Type;
  /** The value's BTF type, like `keyType`. */
  readonly valueType?: Type;
  /** Static initialisers (`values` of prog arrays and maps of maps, global data is `data`). */
  readonly contents: readonly MapContent[];
  /**
   * Initial bytes of a global data map (`.data`, `.rodata`, `.kconfig`...; zeros for `.bss`):
   * the value of its one element. `VariableSpec.set()` writes here before load.
   */
  readonly data?: Uint8Array;
  /** True for read-only global data (`.rodata*`, `.kconfig`): created `BPF_F_RDONLY_PROG`, frozen. */
  readonly readOnly?: boolean;
}

/** A global variable in a data section, addressed through its map. */
export interface VariableSpec {
  /** The C name. */
  readonly name: string;
  /** The data section (and map) holding it: `.data`, `.bss`, `.rodata`... */
  readonly section: string;
  /** Byte offset in the section. */
  readonly offset: number;
  /** Bytes of the variable. */
  readonly size: number;
  /** Its BTF type (the `Var`'s target). */
  readonly type: Type;
  /** Decodes the current initial value from the section's bytes (ints by their BTF type). */
  get(): unknown;
  /** Writes a new initial value (before load); bytes must be exactly `size` long. */
  set(value: unknown): void;
}

/**
 * A `.BTF.ext` record tied to an instruction of a linked program. `insn` (here and in
 * {@link LineInfo}, {@link CoreRelocation}, {@link ExternReference}) is an index into
 * `ProgramSpec.instructions`, not an 8-byte slot: the kernel's `insn_off` is the slot, which
 * differs after each two-slot `lddw`.
 */
export interface FuncInfo {
  /** Index of the function's first instruction in `ProgramSpec.instructions`. */
  readonly insn: number;
  /** The function's BTF `Func`. */
  readonly typeId: TypeId;
}
/** A source line of a program: the instruction it starts at, and its file, line and column. */
export interface LineInfo {
  /** Index of the line's first instruction in `ProgramSpec.instructions`. */
  readonly insn: number;
  /** Offsets into the object's BTF string table, as the kernel takes them. */
  readonly fileNameOff: number;
  readonly lineOff: number;
  /** Line number, from 1. */
  readonly line: number;
  /** Column, from 1 (0 when unknown). */
  readonly column: number;
}
/** A CO-RE relocation of a program: an instruction to fix up against the target kernel's types. */
export interface CoreRelocation {
  /** Index of the instruction to fix up in `ProgramSpec.instructions`. */
  readonly insn: number;
  /** Local type id (in the object's BTF). */
  readonly typeId: TypeId;
  /** `0:1:2` style access string. */
  readonly accessString: string;
  /** `BpfCoreReloKind` value. */
  readonly kind: number;
}

/** An extern the loader must resolve (`.kconfig` / `.ksyms`). */
export interface ExternSpec {
  /** The C name (`CONFIG_HZ`, `bpf_prog_active`, a kfunc). */
  readonly name: string;
  /** `'kconfig'` for a `__kconfig` extern, `'ksym'` for a `__ksym` variable or kfunc. */
  readonly kind: 'kconfig' | 'ksym';
  /** `__weak`: resolves to 0 when the kernel lacks it. */
  readonly weak: boolean;
  /** Its BTF type (a `Var` target, or a `FuncProto` for kfuncs). */
  readonly type: Type;
  /** For kconfig externs: offset in the `.kconfig` map's value. */
  readonly offset?: number;
}

/**
 * An `lddw` of an extern variable. For a `.kconfig` one the instruction already loads
 * `.kconfig` map value + offset (`insn.map`); for a `.ksyms` one the loader fills it
 * (`BPF_PSEUDO_BTF_ID` for a typed ksym, the address for an untyped one, 0 for a missing weak
 * one). kfunc calls are not listed here: they carry `insn.kfunc`.
 */
export interface ExternReference {
  /** Index of the `lddw` in `ProgramSpec.instructions`. */
  readonly insn: number;
  /** The extern it loads (a key of `CollectionSpec.externs`). */
  readonly name: string;
}

/** One program (a function in a code section) with its subprograms linked in. */
export interface ProgramSpec {
  /** The C function name. */
  readonly name: string;
  /** The ELF section name as written, `?` prefix included. */
  readonly section: string;
  /**
   * The names `BpfProgram.load` takes: `'xdp'`, `'sched_cls'`, `'tracepoint'`, `'tracing'`...;
   * `'unspec'` for a section libbpf knows no type for (then `problem` says so).
   */
  readonly type: string;
  /** `'cgroup_inet_egress'`, `'trace_fentry'`... or undefined. */
  readonly attachType: string | undefined;
  /** What the section names as target: `'do_unlinkat'`, `'syscalls/sys_enter_openat'`. */
  readonly attachTo: string | undefined;
  /** Linked code; map and global references stay symbolic (`insn.map`, `insn.kfunc`). */
  readonly instructions: readonly Instruction[];
  /** From the `license` section (`'GPL'`, `'Dual BSD/GPL'`); GPL-only helpers need a GPL one. */
  readonly license: string;
  /** From the `version` section (0 when absent). */
  readonly kernelVersion: number;
  /** `BPF_F_SLEEPABLE`, `BPF_F_XDP_HAS_FRAGS`... */
  readonly flags: number;
  /** False for `SEC("?...")`. */
  readonly autoload: boolean;
  /** BTF of each function (the program and its subprograms), as `BPF_PROG_LOAD` takes it. */
  readonly funcInfo: readonly FuncInfo[];
  /** Source lines, for the verifier log and `bpftool prog dump`. */
  readonly lineInfo: readonly LineInfo[];
  /** CO-RE relocations left to resolve against the target kernel's BTF at load. */
  readonly coreRelocations: readonly CoreRelocation[];
  /** Loads of extern variables the loader fills in. */
  readonly externReferences: readonly ExternReference[];
  /** A problem confined to this program, thrown when it is loaded (the others stay usable). */
  readonly problem?: ObjectError;
}
