import { InsnClass, InsnMode, InsnSize } from '@ebpf/uapi';
import { imm32, makeInstruction, off16, regIndex, registerMemory } from './build.ts';
import type { Instruction } from './instruction.ts';
import type { Register } from './registers.ts';

/** Access width of a load or store: a size constant from `InsnSize`. */
export type Size = (typeof InsnSize)[keyof typeof InsnSize];

/** `dst = *(uN *)(src + off)`: zero-extending load of `size`. */
export function load(size: Size, dst: Register, src: Register, off = 0): Instruction {
  return registerMemory(InsnClass.Ldx | InsnMode.Mem | size, dst, src, off);
}

/** `dst = *(sN *)(src + off)`: sign-extending load of 1, 2 or 4 bytes (cpu v4). */
export function loadSigned(
  size: Exclude<Size, typeof InsnSize.Dw>,
  dst: Register,
  src: Register,
  off = 0,
): Instruction {
  return registerMemory(InsnClass.Ldx | InsnMode.Memsx | size, dst, src, off);
}

/** `*(uN *)(dst + off) = src`: store of a register. */
export function store(size: Size, dst: Register, off: number, src: Register): Instruction {
  return registerMemory(InsnClass.Stx | InsnMode.Mem | size, dst, src, off);
}

/** `*(uN *)(dst + off) = imm`: store of an immediate (sign-extended to 64 bits for `Dw`). */
export function storeImm(size: Size, dst: Register, off: number, imm: number): Instruction {
  return makeInstruction(InsnClass.St | InsnMode.Mem | size, regIndex(dst, 'dst'), 0, off16(off), imm32(imm));
}

/** `r0 = *(u8 *)(src + off)`. */
export const ldxb = (dst: Register, src: Register, off = 0): Instruction => load(InsnSize.B, dst, src, off);
/** `r0 = *(u16 *)(src + off)`. */
export const ldxh = (dst: Register, src: Register, off = 0): Instruction => load(InsnSize.H, dst, src, off);
/** `r0 = *(u32 *)(src + off)`. */
export const ldxw = (dst: Register, src: Register, off = 0): Instruction => load(InsnSize.W, dst, src, off);
/** `r0 = *(u64 *)(src + off)`. */
export const ldxdw = (dst: Register, src: Register, off = 0): Instruction => load(InsnSize.Dw, dst, src, off);
/** `r0 = *(s8 *)(src + off)` (cpu v4). */
export const ldxsb = (dst: Register, src: Register, off = 0): Instruction =>
  loadSigned(InsnSize.B, dst, src, off);
/** `r0 = *(s16 *)(src + off)` (cpu v4). */
export const ldxsh = (dst: Register, src: Register, off = 0): Instruction =>
  loadSigned(InsnSize.H, dst, src, off);
/** `r0 = *(s32 *)(src + off)` (cpu v4). */
export const ldxsw = (dst: Register, src: Register, off = 0): Instruction =>
  loadSigned(InsnSize.W, dst, src, off);
/** `*(u8 *)(dst + off) = src`. */
export const stxb = (dst: Register, off: number, src: Register): Instruction =>
  store(InsnSize.B, dst, off, src);
/** `*(u16 *)(dst + off) = src`. */
export const stxh = (dst: Register, off: number, src: Register): Instruction =>
  store(InsnSize.H, dst, off, src);
/** `*(u32 *)(dst + off) = src`. */
export const stxw = (dst: Register, off: number, src: Register): Instruction =>
  store(InsnSize.W, dst, off, src);
/** `*(u64 *)(dst + off) = src`. */
export const stxdw = (dst: Register, off: number, src: Register): Instruction =>
  store(InsnSize.Dw, dst, off, src);
/** `*(u8 *)(dst + off) = imm`. */
export const stb = (dst: Register, off: number, imm: number): Instruction =>
  storeImm(InsnSize.B, dst, off, imm);
/** `*(u16 *)(dst + off) = imm`. */
export const sth = (dst: Register, off: number, imm: number): Instruction =>
  storeImm(InsnSize.H, dst, off, imm);
/** `*(u32 *)(dst + off) = imm`. */
export const stw = (dst: Register, off: number, imm: number): Instruction =>
  storeImm(InsnSize.W, dst, off, imm);
/** `*(u64 *)(dst + off) = imm`. */
export const stdw = (dst: Register, off: number, imm: number): Instruction =>
  storeImm(InsnSize.Dw, dst, off, imm);

/** Width of a legacy packet load. */
export type PacketSize = typeof InsnSize.B | typeof InsnSize.H | typeof InsnSize.W;

/** `r0 = *(uN *)skb[imm]`: legacy absolute packet load (socket filters), result in r0 in host order. */
export function ldAbs(size: PacketSize, imm: number): Instruction {
  return makeInstruction(InsnClass.Ld | InsnMode.Abs | size, 0, 0, 0, imm32(imm));
}

/** `r0 = *(uN *)skb[src + imm]`: legacy indirect packet load. */
export function ldInd(size: PacketSize, src: Register, imm = 0): Instruction {
  return makeInstruction(InsnClass.Ld | InsnMode.Ind | size, 0, regIndex(src, 'src'), 0, imm32(imm));
}
