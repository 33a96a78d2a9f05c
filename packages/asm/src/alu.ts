import { AluOp, EndianSource, InsnClass, InsnSource } from '@ebpf/uapi';
import { imm32, makeInstruction, regIndex } from './build.ts';
import type { Instruction } from './instruction.ts';
import { isRegister, type Register } from './registers.ts';

/** A register or a 32-bit immediate: the second operand of ALU and jump builders. */
export type Operand = Register | number;

/**
 * Any ALU instruction: `cls` is `InsnClass.Alu64` or `InsnClass.Alu`, `code` an `AluOp`, `off`
 * the cpu v4 variant selector (1 for signed div/mod, 8/16/32 for sign-extending mov).
 */
export function alu(cls: number, code: number, dst: Register, operand: Operand, off = 0): Instruction {
  const d = regIndex(dst, 'dst');
  if (isRegister(operand))
    return makeInstruction(cls | code | InsnSource.X, d, regIndex(operand, 'src'), off, 0);
  return makeInstruction(cls | code | InsnSource.K, d, 0, off, imm32(operand));
}

const a64 =
  (code: number, off = 0) =>
  (dst: Register, operand: Operand): Instruction =>
    alu(InsnClass.Alu64, code, dst, operand, off);
const a32 =
  (code: number, off = 0) =>
  (dst: Register, operand: Operand): Instruction =>
    alu(InsnClass.Alu, code, dst, operand, off);

/** `dst += operand` (64-bit). */
export const add64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.Add);
/** `dst -= operand` (64-bit). */
export const sub64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.Sub);
/** `dst *= operand` (64-bit). */
export const mul64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.Mul);
/** `dst /= operand` (64-bit, unsigned). */
export const div64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.Div);
/** `dst s/= operand` (64-bit, signed; cpu v4). */
export const sdiv64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.Div, 1);
/** `dst |= operand` (64-bit). */
export const or64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.Or);
/** `dst &= operand` (64-bit). */
export const and64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.And);
/** `dst <<= operand` (64-bit). */
export const lsh64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.Lsh);
/** `dst >>= operand` (64-bit, logical). */
export const rsh64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.Rsh);
/** `dst %= operand` (64-bit, unsigned). */
export const mod64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.Mod);
/** `dst s%= operand` (64-bit, signed; cpu v4). */
export const smod64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.Mod, 1);
/** `dst ^= operand` (64-bit). */
export const xor64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.Xor);
/** `dst = operand` (64-bit; an immediate is sign-extended). */
export const mov64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.Mov);
/** `dst s>>= operand` (64-bit, arithmetic). */
export const arsh64: (dst: Register, operand: Operand) => Instruction = a64(AluOp.Arsh);
/** `wdst += operand` (32-bit; the upper half of dst is zeroed). */
export const add32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.Add);
/** `wdst -= operand` (32-bit). */
export const sub32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.Sub);
/** `wdst *= operand` (32-bit). */
export const mul32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.Mul);
/** `wdst /= operand` (32-bit, unsigned). */
export const div32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.Div);
/** `wdst s/= operand` (32-bit, signed; cpu v4). */
export const sdiv32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.Div, 1);
/** `wdst |= operand` (32-bit). */
export const or32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.Or);
/** `wdst &= operand` (32-bit). */
export const and32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.And);
/** `wdst <<= operand` (32-bit). */
export const lsh32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.Lsh);
/** `wdst >>= operand` (32-bit, logical). */
export const rsh32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.Rsh);
/** `wdst %= operand` (32-bit, unsigned). */
export const mod32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.Mod);
/** `wdst s%= operand` (32-bit, signed; cpu v4). */
export const smod32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.Mod, 1);
/** `wdst ^= operand` (32-bit). */
export const xor32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.Xor);
/** `wdst = operand` (32-bit; the upper half of dst is zeroed). */
export const mov32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.Mov);
/** `wdst s>>= operand` (32-bit, arithmetic). */
export const arsh32: (dst: Register, operand: Operand) => Instruction = a32(AluOp.Arsh);

/** `dst = -dst` (64-bit). */
export function neg64(dst: Register): Instruction {
  return makeInstruction(InsnClass.Alu64 | AluOp.Neg, regIndex(dst, 'dst'), 0, 0, 0);
}

/** `wdst = -wdst` (32-bit). */
export function neg32(dst: Register): Instruction {
  return makeInstruction(InsnClass.Alu | AluOp.Neg, regIndex(dst, 'dst'), 0, 0, 0);
}

/** `dst = (s8|s16|s32)src`: sign-extending 64-bit move (cpu v4). */
export function movsx64(dst: Register, src: Register, bits: 8 | 16 | 32): Instruction {
  return alu(InsnClass.Alu64, AluOp.Mov, dst, regOnly(src), bits);
}

/** `wdst = (s8|s16)wsrc`: sign-extending 32-bit move (cpu v4). */
export function movsx32(dst: Register, src: Register, bits: 8 | 16): Instruction {
  return alu(InsnClass.Alu, AluOp.Mov, dst, regOnly(src), bits);
}

function regOnly(r: Register): Register {
  regIndex(r, 'src');
  return r;
}

/** Byte-swap width. */
export type SwapWidth = 16 | 32 | 64;

function endian(cls: number, source: number, dst: Register, bits: SwapWidth): Instruction {
  return makeInstruction(cls | AluOp.End | source, regIndex(dst, 'dst'), 0, 0, bits);
}

/** `dst = le<bits> dst`: convert from little endian (truncates to `bits` on little-endian hosts). */
export function le(dst: Register, bits: SwapWidth): Instruction {
  return endian(InsnClass.Alu, EndianSource.ToLe, dst, bits);
}

/** `dst = be<bits> dst`: convert from big endian. */
export function be(dst: Register, bits: SwapWidth): Instruction {
  return endian(InsnClass.Alu, EndianSource.ToBe, dst, bits);
}

/** `dst = bswap<bits> dst`: unconditional byte swap (cpu v4). */
export function bswap(dst: Register, bits: SwapWidth): Instruction {
  return endian(InsnClass.Alu64, EndianSource.ToLe, dst, bits);
}
