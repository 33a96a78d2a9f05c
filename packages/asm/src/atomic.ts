import { AluOp, AtomicOp, InsnClass, InsnMode, InsnSize } from '@ebpf/uapi';
import { registerMemory } from './build.ts';
import type { Instruction } from './instruction.ts';
import type { Size } from './memory.ts';
import type { Register } from './registers.ts';

/**
 * Any atomic read-modify-write on `*(dst + off)` with `src`: `operation` is `AluOp.Add`, `Or`,
 * `And` or `Xor` (optionally `| AtomicOp.Fetch`, which returns the old value in `src`),
 * `AtomicOp.Xchg` or `AtomicOp.Cmpxchg` (compares with r0, old value in r0). `size` is
 * `InsnSize.W` or `InsnSize.Dw`.
 */
export function atomic(
  size: Size,
  operation: number,
  dst: Register,
  off: number,
  src: Register,
): Instruction {
  return registerMemory(InsnClass.Stx | InsnMode.Atomic | size, dst, src, off, operation);
}

type Rmw = (dst: Register, off: number, src: Register) => Instruction;
const rmw =
  (size: Size, operation: number): Rmw =>
  (dst, off, src) =>
    atomic(size, operation, dst, off, src);

/** `lock *(u64 *)(dst + off) += src`. */
export const atomicAdd64: Rmw = rmw(InsnSize.Dw, AluOp.Add);
/** `lock *(u64 *)(dst + off) |= src`. */
export const atomicOr64: Rmw = rmw(InsnSize.Dw, AluOp.Or);
/** `lock *(u64 *)(dst + off) &= src`. */
export const atomicAnd64: Rmw = rmw(InsnSize.Dw, AluOp.And);
/** `lock *(u64 *)(dst + off) ^= src`. */
export const atomicXor64: Rmw = rmw(InsnSize.Dw, AluOp.Xor);
/** `lock *(u32 *)(dst + off) += wsrc`. */
export const atomicAdd32: Rmw = rmw(InsnSize.W, AluOp.Add);
/** `lock *(u32 *)(dst + off) |= wsrc`. */
export const atomicOr32: Rmw = rmw(InsnSize.W, AluOp.Or);
/** `lock *(u32 *)(dst + off) &= wsrc`. */
export const atomicAnd32: Rmw = rmw(InsnSize.W, AluOp.And);
/** `lock *(u32 *)(dst + off) ^= wsrc`. */
export const atomicXor32: Rmw = rmw(InsnSize.W, AluOp.Xor);
/** `src = atomic_fetch_add((u64 *)(dst + off), src)`. */
export const atomicFetchAdd64: Rmw = rmw(InsnSize.Dw, AluOp.Add | AtomicOp.Fetch);
/** `src = atomic_fetch_or((u64 *)(dst + off), src)`. */
export const atomicFetchOr64: Rmw = rmw(InsnSize.Dw, AluOp.Or | AtomicOp.Fetch);
/** `src = atomic_fetch_and((u64 *)(dst + off), src)`. */
export const atomicFetchAnd64: Rmw = rmw(InsnSize.Dw, AluOp.And | AtomicOp.Fetch);
/** `src = atomic_fetch_xor((u64 *)(dst + off), src)`. */
export const atomicFetchXor64: Rmw = rmw(InsnSize.Dw, AluOp.Xor | AtomicOp.Fetch);
/** `wsrc = atomic_fetch_add((u32 *)(dst + off), wsrc)`. */
export const atomicFetchAdd32: Rmw = rmw(InsnSize.W, AluOp.Add | AtomicOp.Fetch);
/** `wsrc = atomic_fetch_or((u32 *)(dst + off), wsrc)`. */
export const atomicFetchOr32: Rmw = rmw(InsnSize.W, AluOp.Or | AtomicOp.Fetch);
/** `wsrc = atomic_fetch_and((u32 *)(dst + off), wsrc)`. */
export const atomicFetchAnd32: Rmw = rmw(InsnSize.W, AluOp.And | AtomicOp.Fetch);
/** `wsrc = atomic_fetch_xor((u32 *)(dst + off), wsrc)`. */
export const atomicFetchXor32: Rmw = rmw(InsnSize.W, AluOp.Xor | AtomicOp.Fetch);
/** `src = xchg_64(dst + off, src)`. */
export const atomicXchg64: Rmw = rmw(InsnSize.Dw, AtomicOp.Xchg);
/** `wsrc = xchg32_32(dst + off, wsrc)`. */
export const atomicXchg32: Rmw = rmw(InsnSize.W, AtomicOp.Xchg);
/** `r0 = cmpxchg_64(dst + off, r0, src)`: stores src if the value equals r0; r0 gets the old value. */
export const atomicCmpxchg64: Rmw = rmw(InsnSize.Dw, AtomicOp.Cmpxchg);
/** `w0 = cmpxchg32_32(dst + off, w0, wsrc)`. */
export const atomicCmpxchg32: Rmw = rmw(InsnSize.W, AtomicOp.Cmpxchg);

/** `dst = load_acquire((uN *)(src + off))`: load with acquire ordering (any width). */
export function loadAcquire(size: Size, dst: Register, src: Register, off = 0): Instruction {
  return registerMemory(InsnClass.Stx | InsnMode.Atomic | size, dst, src, off, AtomicOp.LoadAcq);
}

/** `store_release((uN *)(dst + off), src)`: store with release ordering (any width). */
export function storeRelease(size: Size, dst: Register, off: number, src: Register): Instruction {
  return registerMemory(InsnClass.Stx | InsnMode.Atomic | size, dst, src, off, AtomicOp.StoreRel);
}
