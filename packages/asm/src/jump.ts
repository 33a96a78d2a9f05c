import { InsnClass, InsnSource, JmpOp } from '@ebpf/uapi';
import type { Operand } from './alu.ts';
import { imm32, makeInstruction, off16, regIndex, type Symbolic } from './build.ts';
import { InvalidInstructionError } from './errors.ts';
import type { Instruction } from './instruction.ts';
import { GOTOL, JA, MAY_GOTO } from './opcode.ts';
import { isRegister, type Register } from './registers.ts';

/** A jump target: a label name resolved by `link`, or a relative offset in instruction slots. */
export type Target = string | number;

function targetOf(target: Target): { value: number; sym: Symbolic | undefined } {
  if (typeof target === 'string') {
    if (target.length === 0)
      throw new InvalidInstructionError('jump target label must not be empty', { field: 'target' });
    return { value: 0, sym: { target } };
  }
  return { value: target, sym: undefined };
}

/**
 * Any conditional jump: `cls` is `InsnClass.Jmp` (64-bit compare) or `InsnClass.Jmp32`, `code` a
 * `JmpOp`; jumps to `target` when `dst <op> operand` holds.
 */
export function jump(
  cls: number,
  code: number,
  dst: Register,
  operand: Operand,
  target: Target,
): Instruction {
  const { value, sym } = targetOf(target);
  const off = off16(value, 'jump offset');
  const d = regIndex(dst, 'dst');
  if (isRegister(operand))
    return makeInstruction(cls | code | InsnSource.X, d, regIndex(operand, 'src'), off, 0, sym);
  return makeInstruction(cls | code | InsnSource.K, d, 0, off, imm32(operand), sym);
}

type CondJump = (dst: Register, operand: Operand, target: Target) => Instruction;
const j64 =
  (code: number): CondJump =>
  (dst, operand, target) =>
    jump(InsnClass.Jmp, code, dst, operand, target);
const j32 =
  (code: number): CondJump =>
  (dst, operand, target) =>
    jump(InsnClass.Jmp32, code, dst, operand, target);

/** `if dst == operand goto target`. */
export const jeq: CondJump = j64(JmpOp.Jeq);
/** `if dst > operand goto target` (unsigned). */
export const jgt: CondJump = j64(JmpOp.Jgt);
/** `if dst >= operand goto target` (unsigned). */
export const jge: CondJump = j64(JmpOp.Jge);
/** `if dst & operand goto target`. */
export const jset: CondJump = j64(JmpOp.Jset);
/** `if dst != operand goto target`. */
export const jne: CondJump = j64(JmpOp.Jne);
/** `if dst s> operand goto target`. */
export const jsgt: CondJump = j64(JmpOp.Jsgt);
/** `if dst s>= operand goto target`. */
export const jsge: CondJump = j64(JmpOp.Jsge);
/** `if dst < operand goto target` (unsigned). */
export const jlt: CondJump = j64(JmpOp.Jlt);
/** `if dst <= operand goto target` (unsigned). */
export const jle: CondJump = j64(JmpOp.Jle);
/** `if dst s< operand goto target`. */
export const jslt: CondJump = j64(JmpOp.Jslt);
/** `if dst s<= operand goto target`. */
export const jsle: CondJump = j64(JmpOp.Jsle);
/** `if wdst == operand goto target` (32-bit compare). */
export const jeq32: CondJump = j32(JmpOp.Jeq);
/** `if wdst > operand goto target` (32-bit, unsigned). */
export const jgt32: CondJump = j32(JmpOp.Jgt);
/** `if wdst >= operand goto target` (32-bit, unsigned). */
export const jge32: CondJump = j32(JmpOp.Jge);
/** `if wdst & operand goto target` (32-bit). */
export const jset32: CondJump = j32(JmpOp.Jset);
/** `if wdst != operand goto target` (32-bit). */
export const jne32: CondJump = j32(JmpOp.Jne);
/** `if wdst s> operand goto target` (32-bit). */
export const jsgt32: CondJump = j32(JmpOp.Jsgt);
/** `if wdst s>= operand goto target` (32-bit). */
export const jsge32: CondJump = j32(JmpOp.Jsge);
/** `if wdst < operand goto target` (32-bit, unsigned). */
export const jlt32: CondJump = j32(JmpOp.Jlt);
/** `if wdst <= operand goto target` (32-bit, unsigned). */
export const jle32: CondJump = j32(JmpOp.Jle);
/** `if wdst s< operand goto target` (32-bit). */
export const jslt32: CondJump = j32(JmpOp.Jslt);
/** `if wdst s<= operand goto target` (32-bit). */
export const jsle32: CondJump = j32(JmpOp.Jsle);

/** `goto target`: unconditional jump with a 16-bit offset. */
export function ja(target: Target): Instruction {
  const { value, sym } = targetOf(target);
  return makeInstruction(JA, 0, 0, off16(value, 'jump offset'), 0, sym);
}

/** `gotol target`: unconditional jump with a 32-bit offset (cpu v4), for targets beyond ±32767 slots. */
export function gotol(target: Target): Instruction {
  const { value, sym } = targetOf(target);
  return makeInstruction(GOTOL, 0, 0, 0, imm32(value, 'jump offset'), sym);
}

/** `may_goto target`: jump when the verifier-enforced loop budget runs out (`BPF_JCOND`). */
export function mayGoto(target: Target): Instruction {
  const { value, sym } = targetOf(target);
  return makeInstruction(MAY_GOTO, 0, 0, off16(value, 'jump offset'), 0, sym);
}
