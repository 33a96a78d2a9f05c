/**
 * The linked code behind a parsed `ProgramSpec`: its bytes and its function and line records go
 * to the kernel as they are, map fds written into a copy of the bytes ({@link programBytecode});
 * its `instructions`, `funcInfo` and `lineInfo` are decoded from them only when read, then
 * frozen, so what a user sees and what is loaded cannot drift apart.
 */
import { decode, type Instruction } from '@ebpf/asm';
import { CodeView } from './code-view.ts';
import { decodeFuncInfo, decodeLineInfo } from './kernel-records.ts';
import type { LinkedProgram } from './link.ts';
import type { FuncInfo, LineInfo, ProgramSpec } from './spec.ts';

/**
 * Where a parsed program keeps its code: a property that is not enumerable, so a copy
 * (`{ ...program }`) or a hand-made spec has none. Not a WeakMap: an entry per program of every
 * parse left the garbage collector that many ephemerons to trace.
 */
const held: unique symbol = Symbol('linked code');
interface Held {
  readonly linked: LinkedProgram;
  instructions: readonly Instruction[] | undefined;
  funcInfo: readonly FuncInfo[] | undefined;
  lineInfo: readonly LineInfo[] | undefined;
}
type WithCode = ProgramSpec & { readonly [held]?: Held };

/** Whether this machine's byte order is little-endian: the kernel takes code in its own order. */
const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Gives `program` its code and `instructions`, `funcInfo` and `lineInfo` properties decoding it
 * the first time each is read. The getters are enumerable (a spread copies what they give) and
 * the same functions for every program: a getter per program (an object literal's `get`) gives
 * each program its own hidden class, which made parsing twice as slow.
 */
export function attachCode(program: object, linked: LinkedProgram): void {
  const code: Held = { linked, instructions: undefined, funcInfo: undefined, lineInfo: undefined };
  // One defineProperty each: half the time of one defineProperties.
  Object.defineProperty(program, held, { value: code });
  Object.defineProperty(program, 'instructions', instructionsProperty);
  Object.defineProperty(program, 'funcInfo', funcInfoProperty);
  Object.defineProperty(program, 'lineInfo', lineInfoProperty);
}

const instructionsProperty = { get: instructionsGetter, enumerable: true };
const funcInfoProperty = { get: funcInfoGetter, enumerable: true };
const lineInfoProperty = { get: lineInfoGetter, enumerable: true };

function instructionsGetter(this: WithCode): readonly Instruction[] {
  const code = this[held] as Held;
  code.instructions ??= decodeLinked(code.linked);
  return code.instructions;
}

function funcInfoGetter(this: WithCode): readonly FuncInfo[] {
  const code = this[held] as Held;
  const { funcInfo, slots, code: view } = code.linked;
  code.funcInfo ??= frozen(decodeFuncInfo(funcInfo, slots, view.littleEndian));
  return code.funcInfo;
}

function lineInfoGetter(this: WithCode): readonly LineInfo[] {
  const code = this[held] as Held;
  const { lineInfo, slots, code: view } = code.linked;
  code.lineInfo ??= frozen(decodeLineInfo(lineInfo, slots, view.littleEndian));
  return code.lineInfo;
}

/** `items` and each of them frozen. */
function frozen<T extends object>(items: T[]): readonly T[] {
  for (const item of items) Object.freeze(item);
  return Object.freeze(items);
}

/** The instructions of linked code, as symbolic as the object made them (map and kfunc names). */
function decodeLinked(linked: LinkedProgram): readonly Instruction[] {
  const { code } = linked;
  const out = decode(code.bytes, { byteOrder: code.littleEndian ? 'little' : 'big' });
  // The bytes hold each reference's pseudo source and offset; its name is added.
  for (const { insn, reference } of linked.references) {
    const decoded = out[insn] as Instruction;
    out[insn] =
      'map' in reference ? { ...decoded, map: reference.map } : { ...decoded, kfunc: reference.kfunc };
  }
  return frozen(out);
}

/** A parsed program's code as `BPF_PROG_LOAD` takes it. */
export interface ProgramBytecode {
  /** The instructions' bytes, map references holding their maps' fds (a copy, the caller's). */
  readonly bytecode: Uint8Array;
  /**
   * The slot each instruction index of `ProgramSpec.instructions` starts at (an `lddw` takes
   * two), and after them the slot count: what turns `funcInfo` and `lineInfo` into the kernel's
   * `insn_off`. Shared: do not modify.
   */
  readonly slots: Uint32Array;
  /** `funcInfo` as the kernel's `bpf_func_info` records (`insn_off` in slots). Shared: do not modify. */
  readonly funcInfo: Uint8Array;
  /** `lineInfo` as the kernel's `bpf_line_info` records (`insn_off` in slots). Shared: do not modify. */
  readonly lineInfo: Uint8Array;
}

/**
 * Copies of linked code for one load of several programs: the programs of one parse keep their
 * code in one buffer, copied here once for all of them (one allocation per load, not one per
 * program); each program's map fds go into its own part of the copy.
 */
export class BytecodeCopies {
  readonly #copies = new Map<ArrayBufferLike, Uint8Array>();

  /** `bytes` in this load's copy of the buffer they are a view of. */
  of(bytes: Uint8Array): Uint8Array {
    let copy = this.#copies.get(bytes.buffer);
    if (copy === undefined) {
      copy = new Uint8Array(bytes.buffer.slice(0));
      this.#copies.set(bytes.buffer, copy);
    }
    return copy.subarray(bytes.byteOffset, bytes.byteOffset + bytes.length);
  }
}

/**
 * The bytes to load program `program` with, without decoding its instructions: its linked code
 * with the fd of each map it names (`mapFd(name)`) written in, into a copy of its own or, given
 * `copies`, into its part of the copy the load's programs share. Undefined when the code cannot go
 * as bytes and the caller must work from `program.instructions`: the spec was not made by
 * `CollectionSpec.parse` (or is a copy of one), a map has no fd, the code calls kfuncs or has
 * CO-RE relocations or externs to resolve (those work on instructions), or it is in the other
 * byte order than this machine's.
 */
export function programBytecode(
  program: ProgramSpec,
  mapFd: (name: string) => number | undefined,
  copies?: BytecodeCopies,
): ProgramBytecode | undefined {
  const linked = Object.hasOwn(program, held) ? (program as WithCode)[held]?.linked : undefined;
  if (linked === undefined || linked.code.littleEndian !== hostLittleEndian) return undefined;
  if (program.coreRelocations.length > 0 || program.externReferences.length > 0) return undefined;
  const { bytes, littleEndian } = linked.code;
  const code = new CodeView(copies === undefined ? bytes.slice() : copies.of(bytes), littleEndian);
  for (const { slot, reference } of linked.references) {
    if (!('map' in reference)) return undefined;
    const fd = mapFd(reference.map);
    if (fd === undefined) return undefined;
    code.setImm(slot, fd);
  }
  return { bytecode: code.bytes, slots: linked.slots, funcInfo: linked.funcInfo, lineInfo: linked.lineInfo };
}
