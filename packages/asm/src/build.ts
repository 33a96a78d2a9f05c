import { AtomicOp, InsnClass, InsnMode } from '@ebpf/uapi';
import { describeValue } from './describe.ts';
import { InvalidInstructionError } from './errors.ts';
import { checkInstruction, type Instruction, type Metadata } from './instruction.ts';
import { opClass, opMode, opSize, sizeBytes } from './opcode.ts';
import { FRAME_POINTER, isRegister, type Register, STACK_SIZE } from './registers.ts';

/** Symbolic fields a builder may attach. */
export interface Symbolic {
  target?: string;
  map?: string;
  kfunc?: string;
  meta?: Metadata;
}

/**
 * Makes a checked instruction: the canonical-form rules of {@link checkInstruction} plus the
 * verifier's rules that bytes alone cannot break but a builder should refuse: r10 is read-only,
 * and r10-relative accesses stay inside the 512-byte stack at an offset aligned to their width.
 */
export function makeInstruction(
  op: number,
  dst: number,
  src: number,
  off: number,
  imm: number | bigint,
  sym?: Symbolic,
): Instruction {
  const insn: Instruction =
    sym === undefined ? { op, dst, src, off, imm } : { op, dst, src, off, imm, ...clean(sym) };
  checkInstruction(insn);
  const problem = semanticProblem(insn);
  if (problem !== undefined) throw new InvalidInstructionError(problem[1], { field: problem[0] });
  return insn;
}

function clean(sym: Symbolic): Symbolic {
  const out: Symbolic = {};
  if (sym.target !== undefined) out.target = sym.target;
  if (sym.map !== undefined) out.map = sym.map;
  if (sym.kfunc !== undefined) out.kfunc = sym.kfunc;
  if (sym.meta !== undefined) out.meta = sym.meta;
  return out;
}

/** Why the verifier would refuse this otherwise well-formed instruction, or undefined. */
export function semanticProblem(insn: Instruction): [string, string] | undefined {
  const { op, dst, src, off, imm } = insn;
  const cls = opClass(op);
  const writesDst =
    cls === InsnClass.Alu ||
    cls === InsnClass.Alu64 ||
    cls === InsnClass.Ldx ||
    (cls === InsnClass.Ld && opMode(op) === InsnMode.Imm) ||
    (cls === InsnClass.Stx && opMode(op) === InsnMode.Atomic && imm === AtomicOp.LoadAcq);
  if (writesDst && dst === FRAME_POINTER) return ['dst', 'r10 is the read-only frame pointer'];
  if (
    cls === InsnClass.Stx &&
    opMode(op) === InsnMode.Atomic &&
    typeof imm === 'number' &&
    imm !== AtomicOp.LoadAcq &&
    imm !== AtomicOp.StoreRel &&
    (imm & AtomicOp.Fetch) !== 0 &&
    src === FRAME_POINTER
  ) {
    return ['src', 'r10 is the read-only frame pointer (a fetching atomic writes its source register)'];
  }
  let base = -1;
  if (cls === InsnClass.Ldx) base = src;
  else if (cls === InsnClass.St) base = dst;
  else if (cls === InsnClass.Stx)
    base = opMode(op) === InsnMode.Atomic && imm === AtomicOp.LoadAcq ? src : dst;
  if (base === FRAME_POINTER) {
    const width = sizeBytes(opSize(op));
    if (off > -width || off < -STACK_SIZE || off % width !== 0) {
      return [
        'off',
        `r10${off < 0 ? '' : '+'}${off} is not a ${width}-byte stack slot: stack accesses need an offset from -${STACK_SIZE} to -${width} that is a multiple of ${width}`,
      ];
    }
  }
  return undefined;
}

/** A register argument's index, or a typed error naming the argument. */
export function regIndex(r: Register, what: string): number {
  if (!isRegister(r))
    throw new InvalidInstructionError(`${what} must be a register (R0..R10), got ${String(r)}`, {
      field: what,
    });
  if (!Number.isInteger(r.index) || r.index < 0 || r.index > 10) {
    throw new InvalidInstructionError(`${what} register r${r.index} is out of range (r0 to r10)`, {
      field: what,
    });
  }
  return r.index;
}

/**
 * A 32-bit immediate as the signed value the encoding holds: accepts -2^31 .. 2^32-1 (values
 * above 2^31-1 are their two's-complement bit pattern), refuses everything else.
 */
export function imm32(value: number, what = 'imm'): number {
  notANumber(value, what, 'imm');
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -0x80000000 || value > 0xffffffff) {
    throw new InvalidInstructionError(`${what} ${String(value)} does not fit in 32 bits`, { field: 'imm' });
  }
  return value | 0;
}

/** A typed error for an immediate or offset that is not an integer number (a string, a bigint...). */
function notANumber(value: unknown, what: string, field: string): void {
  if (typeof value === 'number' && Number.isInteger(value)) return;
  const got = typeof value === 'number' ? String(value) : describeValue(value);
  throw new InvalidInstructionError(`${what} must be an integer number, got ${got}`, { field });
}

/** A signed 16-bit offset, or a typed error. */
export function off16(value: number, what = 'offset'): number {
  notANumber(value, what, 'off');
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -0x8000 || value > 0x7fff) {
    throw new InvalidInstructionError(`${what} ${String(value)} does not fit in a signed 16-bit field`, {
      field: 'off',
    });
  }
  return value;
}

/** A 64-bit immediate as the signed bigint `lddw` holds: accepts -2^63 .. 2^64-1. */
export function imm64(value: number | bigint): bigint {
  let v: bigint;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) v = BigInt(value);
  else
    throw new InvalidInstructionError(`64-bit immediate ${String(value)} is not an integer (use a bigint)`, {
      field: 'imm',
    });
  if (v < -(1n << 63n) || v >= 1n << 64n) {
    throw new InvalidInstructionError(`64-bit immediate ${v} does not fit in 64 bits`, { field: 'imm' });
  }
  return BigInt.asIntN(64, v);
}

/** Attaches source metadata to an instruction (returns a copy). */
export function withMeta(insn: Instruction, meta: Metadata): Instruction {
  return { ...insn, meta: { ...insn.meta, ...meta } };
}

/** A load, store or atomic between two registers: `op` with `dst`, `src` and a 16-bit `off`. */
export function registerMemory(op: number, dst: Register, src: Register, off: number, imm = 0): Instruction {
  return makeInstruction(op, regIndex(dst, 'dst'), regIndex(src, 'src'), off16(off), imm);
}
