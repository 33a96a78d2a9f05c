import { AluOp, InsnClass, InsnMode, InsnSize, InsnSource, JmpOp } from '@ebpf/uapi';

/**
 * Opcode arithmetic: the opcode byte is `class | source | op` for ALU and JMP classes and
 * `class | size | mode` for loads and stores (constants from `@ebpf/uapi`).
 */

/** The class bits (low 3) of an opcode byte. */
export function opClass(op: number): number {
  return op & 0x07;
}

/** The operation bits (high 4) of an ALU or JMP opcode. */
export function opCode(op: number): number {
  return op & 0xf0;
}

/** The source bit of an ALU or JMP opcode: `InsnSource.K` or `InsnSource.X`. */
export function opSource(op: number): number {
  return op & 0x08;
}

/** The size bits of a load or store opcode. */
export function opSize(op: number): number {
  return op & 0x18;
}

/** The mode bits of a load or store opcode. */
export function opMode(op: number): number {
  return op & 0xe0;
}

/** True for the ALU and ALU64 classes. */
export function isAluClass(cls: number): boolean {
  return cls === InsnClass.Alu || cls === InsnClass.Alu64;
}

/** True for the JMP and JMP32 classes. */
export function isJmpClass(cls: number): boolean {
  return cls === InsnClass.Jmp || cls === InsnClass.Jmp32;
}

/** The opcode of the 16-byte `lddw` (`BPF_LD | BPF_IMM | BPF_DW`). */
export const LDDW: number = InsnClass.Ld | InsnMode.Imm | InsnSize.Dw;
/** The opcode of `call`. */
export const CALL: number = InsnClass.Jmp | JmpOp.Call | InsnSource.K;
/** The opcode of `exit`. */
export const EXIT: number = InsnClass.Jmp | JmpOp.Exit | InsnSource.K;
/** The opcode of `goto` with a 16-bit offset. */
export const JA: number = InsnClass.Jmp | JmpOp.Ja | InsnSource.K;
/** The opcode of `gotol` (32-bit offset in imm, cpu v4). */
export const GOTOL: number = InsnClass.Jmp32 | JmpOp.Ja | InsnSource.K;
/** The opcode of `may_goto` (`BPF_JCOND`). */
export const MAY_GOTO: number = InsnClass.Jmp | JmpOp.Jcond | InsnSource.K;

/** Access width in bytes of a size field. */
export function sizeBytes(size: number): 1 | 2 | 4 | 8 {
  switch (size) {
    case InsnSize.B:
      return 1;
    case InsnSize.H:
      return 2;
    case InsnSize.W:
      return 4;
    default:
      return 8;
  }
}

/** The size field for an access width in bytes, or undefined. */
export function sizeOfBytes(bytes: number): number | undefined {
  switch (bytes) {
    case 1:
      return InsnSize.B;
    case 2:
      return InsnSize.H;
    case 4:
      return InsnSize.W;
    case 8:
      return InsnSize.Dw;
    default:
      return undefined;
  }
}

/** LLVM's compound-assignment operator for each ALU operation (without `=`); `sdiv`/`smod` use `off`. */
export const aluOperators: ReadonlyMap<number, string> = new Map<number, string>([
  [AluOp.Add, '+'],
  [AluOp.Sub, '-'],
  [AluOp.Mul, '*'],
  [AluOp.Div, '/'],
  [AluOp.Or, '|'],
  [AluOp.And, '&'],
  [AluOp.Lsh, '<<'],
  [AluOp.Rsh, '>>'],
  [AluOp.Mod, '%'],
  [AluOp.Xor, '^'],
  [AluOp.Arsh, 's>>'],
]);

/** LLVM's comparison operator for each conditional jump. */
export const jmpOperators: ReadonlyMap<number, string> = new Map<number, string>([
  [JmpOp.Jeq, '=='],
  [JmpOp.Jgt, '>'],
  [JmpOp.Jge, '>='],
  [JmpOp.Jset, '&'],
  [JmpOp.Jne, '!='],
  [JmpOp.Jsgt, 's>'],
  [JmpOp.Jsge, 's>='],
  [JmpOp.Jlt, '<'],
  [JmpOp.Jle, '<='],
  [JmpOp.Jslt, 's<'],
  [JmpOp.Jsle, 's<='],
]);

/** True for the conditional jump operations. */
export function isConditionalJump(code: number): boolean {
  return jmpOperators.has(code);
}
