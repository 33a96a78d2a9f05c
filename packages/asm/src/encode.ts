import { PseudoSrc } from '@ebpf/uapi';
import { describeValue } from './describe.ts';
import { AsmError, InvalidInstructionError, LinkError } from './errors.ts';
import { checkInstruction, type Instruction, type Item, isLabel } from './instruction.ts';
import { linkInstructions } from './link.ts';
import { LDDW } from './opcode.ts';

/** Byte order of an instruction stream: the kernel's is the host's (little on x86 and arm64). */
export type ByteOrder = 'little' | 'big';

/** Options of {@link encode} and {@link decode}. */
export interface CodecOptions {
  /** Default `'little'`. */
  readonly byteOrder?: ByteOrder;
}

/** True for little-endian `options`; a typed error for a byte order that is neither. */
export function isLittleEndian(options: CodecOptions): boolean {
  const order = options?.byteOrder;
  if (order === undefined || order === 'little') return true;
  if (order === 'big') return false;
  throw new AsmError(`byteOrder must be 'little' or 'big', got ${describeValue(order)}`);
}

/** Something that holds linked instructions, like a `Program`. */
export interface HasInstructions {
  readonly instructions: readonly Instruction[];
}

/**
 * The instructions of `input`, linked: a `Program` as is, a list with labels or symbolic jump
 * targets through `link`, a plain list as is.
 */
export function toInstructions(input: HasInstructions | readonly Item[]): readonly Instruction[] {
  if (!Array.isArray(input)) {
    const held = (input as HasInstructions | null | undefined)?.instructions;
    if (Array.isArray(held)) return held;
    throw new InvalidInstructionError(
      `expected an array of instructions (builders' output) or a Program, got ${describeValue(input)}`,
    );
  }
  const items = input as readonly Item[];
  for (const item of items) {
    if (isLabel(item) || item.target !== undefined) return linkInstructions(items).instructions;
  }
  return items as readonly Instruction[];
}

/** Bytes `instructions` take when encoded (8 per slot, 16 for `lddw`). */
export function encodedLength(instructions: readonly Instruction[]): number {
  let n = 0;
  for (const insn of instructions) n += insn.op === LDDW ? 16 : 8;
  return n;
}

/**
 * Encodes instructions (or a `Program`, or builders' output with labels, which is linked first)
 * into the kernel's format: 8 bytes a slot, `lddw` in two. Throws {@link InvalidInstructionError}
 * for anything that is not a valid instruction, and {@link LinkError} for a map or kfunc
 * reference by name that nothing resolved: the bytes cannot carry a name, and a 0 in its place
 * is fd 0 to the kernel. Resolve them first (`Program.resolveMaps`, `BpfProgram.load`'s `maps`).
 */
export function encode(input: HasInstructions | readonly Item[], options: CodecOptions = {}): Uint8Array {
  const instructions = toInstructions(input);
  const out = new Uint8Array(encodedLength(instructions));
  encodeInto(instructions, out, 0, options);
  return out;
}

/** Splits `lddw` immediates into halves without bigint arithmetic. */
const immScratch = new DataView(new ArrayBuffer(8));

/** Options of {@link encodeInto}. */
export interface EncodeIntoOptions extends CodecOptions {
  /**
   * Fills map references while encoding, as `resolveMaps` with fds would (`BPF_PSEUDO_MAP_FD`,
   * `_VALUE` keeping its offset), without making new instructions: the map's fd by name.
   * The caller checks the names first; an fd that is not a valid fd throws {@link LinkError}.
   */
  readonly mapFd?: (name: string) => number;
}

/**
 * Encodes linked instructions into `target` at byte `offset`, without allocating; returns the
 * number of bytes written. Throws {@link InvalidInstructionError} when `target` is too short.
 */
export function encodeInto(
  instructions: readonly Instruction[],
  target: Uint8Array,
  offset = 0,
  options: EncodeIntoOptions = {},
): number {
  const little = isLittleEndian(options);
  if (!(target instanceof Uint8Array)) {
    throw new InvalidInstructionError(`encodeInto writes into a Uint8Array, got ${describeValue(target)}`);
  }
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  let at = offset;
  for (let i = 0; i < instructions.length; i++) {
    const insn = instructions[i]!;
    checkInstruction(insn, i);
    const mapFd =
      insn.map !== undefined && options.mapFd !== undefined && insn.op === LDDW
        ? resolvedFd(insn.map, options.mapFd, i)
        : -1;
    const name = mapFd >= 0 ? insn.kfunc : (insn.map ?? insn.kfunc);
    if (name !== undefined) {
      const kind = mapFd < 0 && insn.map !== undefined ? 'map' : 'kernel function';
      throw new LinkError(
        `instruction ${i} refers to ${kind} '${name}', which nothing resolved: ${kind === 'kernel function' ? 'resolve it (Program.resolveKfuncs)' : "give the map to the loader (BpfProgram.load's maps option) or resolve it (Program.resolveMaps)"} before encoding`,
        name,
        i,
      );
    }
    const size = insn.op === LDDW ? 16 : 8;
    if (at + size > target.byteLength) {
      throw new InvalidInstructionError(
        `output buffer too short: instruction needs bytes ${at}..${at + size}`,
        {
          index: i,
        },
      );
    }
    const src = mapFd < 0 ? insn.src : mapFdSource(insn.src);
    const regs = little ? (src << 4) | insn.dst : (insn.dst << 4) | src;
    view.setUint8(at, insn.op);
    view.setUint8(at + 1, regs);
    view.setInt16(at + 2, insn.off, little);
    if (size === 16) {
      // The 64-bit pattern of the (checked) immediate through a scratch view: shifts and
      // BigInt.asUintN would allocate a bigint each.
      // A resolved map reference has its fd in the first half (the second keeps the value offset).
      immScratch.setBigUint64(0, insn.imm as bigint, true);
      view.setUint32(at + 4, mapFd >= 0 ? mapFd : immScratch.getUint32(0, true), little);
      view.setUint32(at + 8, 0, little);
      view.setUint32(at + 12, immScratch.getUint32(4, true), little);
    } else {
      view.setInt32(at + 4, insn.imm as number, little);
    }
    at += size;
  }
  return at - offset;
}

/** `mapFd(name)`, checked to be an fd. */
function resolvedFd(name: string, mapFd: (name: string) => number, index: number): number {
  const fd = mapFd(name);
  if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff)
    throw new LinkError(`map '${name}' resolved to ${fd}, which is not a valid fd`, name, index);
  return fd;
}

/** The pseudo source of a map reference once it holds an fd (a value load stays one). */
function mapFdSource(src: number): number {
  return src === PseudoSrc.MapValue || src === PseudoSrc.MapIdxValue ? PseudoSrc.MapValue : PseudoSrc.MapFd;
}
