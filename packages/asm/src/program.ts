import { PseudoCall, PseudoSrc } from '@ebpf/uapi';
import { type DisassembleOptions, disassemble } from './disassemble.ts';
import { type CodecOptions, encode } from './encode.ts';
import { LinkError } from './errors.ts';
import type { Instruction, Item } from './instruction.ts';
import { pseudoImm, splitImm } from './ld64.ts';
import { linkInstructions } from './link.ts';
import { CALL, LDDW } from './opcode.ts';
import { programTag } from './tag.ts';

/** A symbolic reference a loader must fill in before `BPF_PROG_LOAD`. */
export interface Reference {
  /** `'map'` for map fd / map value loads, `'kfunc'` for kernel function calls. */
  readonly kind: 'map' | 'kfunc';
  /** The map's or kernel function's name. */
  readonly name: string;
  /** Index of the instruction in `Program.instructions`. */
  readonly index: number;
  /** Slot (8-byte position) of the instruction in the encoded program. */
  readonly slot: number;
  /** The pseudo kind: `PseudoSrc.MapFd`/`MapValue` for maps, `PseudoCall.KfuncCall` for kfuncs. */
  readonly pseudo: number;
}

/** How {@link resolveMaps} fills a map reference. */
export interface ResolveMapsOptions {
  /**
   * `'fd'` (default): the callback returns a map fd, loads become `BPF_PSEUDO_MAP_FD`/`_VALUE`.
   * `'index'`: it returns an index into `fd_array`, loads become `BPF_PSEUDO_MAP_IDX`/`_IDX_VALUE`.
   */
  readonly as?: 'fd' | 'index';
  /** Leave references the callback returns undefined for, instead of throwing. */
  readonly partial?: boolean;
}

/** A kernel function's BTF id and, for a module's function, its BTF fd's index in `fd_array`. */
export interface KfuncAddress {
  /** The function's `Func` id in its BTF (vmlinux or a module's). */
  readonly btfId: number;
  /** For a module's function: the index of its BTF fd in `fd_array` (the call's `off`). */
  readonly btfFdIndex?: number;
}

/** The symbolic map and kfunc references left in `instructions`, in order. */
export function references(instructions: readonly Instruction[]): Reference[] {
  const out: Reference[] = [];
  let slot = 0;
  instructions.forEach((insn, index) => {
    if (insn.map !== undefined) out.push({ kind: 'map', name: insn.map, index, slot, pseudo: insn.src });
    if (insn.kfunc !== undefined)
      out.push({ kind: 'kfunc', name: insn.kfunc, index, slot, pseudo: insn.src });
    slot += insn.op === LDDW ? 2 : 1;
  });
  return out;
}

/**
 * Fills map references: `resolve(name)` returns the map's fd (or `fd_array` index, see
 * {@link ResolveMapsOptions}); the instruction keeps its value offset and loses its `map` name.
 * Returns new instructions; throws {@link LinkError} for a name the callback does not know.
 */
export function resolveMaps(
  instructions: readonly Instruction[],
  resolve: (name: string) => number | undefined,
  options: ResolveMapsOptions = {},
): Instruction[] {
  return instructions.map((insn, index) => {
    if (insn.map === undefined) return insn;
    const fd = resolve(insn.map);
    if (fd === undefined) {
      if (options.partial) return insn;
      throw new LinkError(`no map named '${insn.map}' to resolve instruction ${index}`, insn.map, index);
    }
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) {
      throw new LinkError(
        `map '${insn.map}' resolved to ${fd}, which is not a valid fd or index`,
        insn.map,
        index,
      );
    }
    const value = insn.src === PseudoSrc.MapValue || insn.src === PseudoSrc.MapIdxValue;
    const src =
      options.as === 'index'
        ? value
          ? PseudoSrc.MapIdxValue
          : PseudoSrc.MapIdx
        : value
          ? PseudoSrc.MapValue
          : PseudoSrc.MapFd;
    const { map: _map, ...rest } = insn;
    return { ...rest, src, imm: pseudoImm(fd, splitImm(insn.imm as bigint)[1]) };
  });
}

/** Fills kfunc references with BTF ids; throws {@link LinkError} for a name `resolve` does not know. */
export function resolveKfuncs(
  instructions: readonly Instruction[],
  resolve: (name: string) => KfuncAddress | number | undefined,
): Instruction[] {
  return instructions.map((insn, index) => {
    if (insn.kfunc === undefined || insn.op !== CALL || insn.src !== PseudoCall.KfuncCall) return insn;
    const found = resolve(insn.kfunc);
    if (found === undefined)
      throw new LinkError(`no kernel function named '${insn.kfunc}'`, insn.kfunc, index);
    const address = typeof found === 'number' ? { btfId: found } : found;
    const { kfunc: _kfunc, ...rest } = insn;
    return { ...rest, imm: address.btfId | 0, off: address.btfFdIndex ?? 0 };
  });
}

/**
 * A linked program: instructions with every label resolved, the labels' positions, and the
 * map and kfunc references a loader still has to fill. Immutable; the `resolve*` methods
 * return new programs.
 */
export class Program {
  /** Linked instructions. */
  readonly instructions: readonly Instruction[];
  /** Label name → index into `instructions`. */
  readonly labels: ReadonlyMap<string, number>;

  private constructor(instructions: readonly Instruction[], labels: ReadonlyMap<string, number>) {
    this.instructions = instructions;
    this.labels = labels;
  }

  /** Links builders' output (see {@link link}). */
  static link(items: readonly Item[]): Program {
    const linked = linkInstructions(items);
    return new Program(linked.instructions, linked.labels);
  }

  /** Number of 8-byte slots (what the kernel calls `insn_cnt`). */
  get slots(): number {
    let n = 0;
    for (const insn of this.instructions) n += insn.op === LDDW ? 2 : 1;
    return n;
  }

  /** Symbolic map and kfunc references the loader must fill. */
  references(): Reference[] {
    return references(this.instructions);
  }

  /** Fills map references (see the function {@link resolveMaps}). */
  resolveMaps(resolve: (name: string) => number | undefined, options: ResolveMapsOptions = {}): Program {
    return new Program(resolveMaps(this.instructions, resolve, options), this.labels);
  }

  /** Fills kfunc references (see the function {@link resolveKfuncs}). */
  resolveKfuncs(resolve: (name: string) => KfuncAddress | number | undefined): Program {
    return new Program(resolveKfuncs(this.instructions, resolve), this.labels);
  }

  /** The instruction bytes (see {@link encode}). */
  encode(options: CodecOptions = {}): Uint8Array {
    return encode(this, options);
  }

  /** The program tag the kernel reports once this program is loaded (see {@link programTag}). */
  tag(): string {
    return programTag(this.instructions);
  }

  /** The program as LLVM BPF assembly (see {@link disassemble}). */
  toString(options: DisassembleOptions = {}): string {
    return disassemble(this, options);
  }
}

/**
 * Links instructions and labels into a {@link Program}: jump offsets, `gotol` and BPF-to-BPF
 * call deltas and function addresses come from the labels (16-bit overflow and unknown labels
 * are {@link LinkError}s); map and kfunc references stay symbolic for the loader.
 */
export function link(items: readonly Item[]): Program {
  return Program.link(items);
}
