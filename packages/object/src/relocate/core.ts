/**
 * Applying CO-RE fixups to a program's instructions, as libbpf patches them: the immediate of
 * an ALU instruction or `lddw`, the offset (and, when a field changed width, the size) of a
 * load or store. A relocation without a target poisons its instruction with a call to a helper
 * that cannot exist, so the verifier names that instruction if the code is reachable.
 */
import { type Instruction, isLddw } from '@ebpf/asm';
import { type Btf, CoreError, type CoreFixup, CoreResolver } from '@ebpf/btf';
import { InsnClass, InsnSize, InsnSource, JmpOp } from '@ebpf/uapi';
import { ObjectError } from '../errors.ts';
import type { CoreRelocation } from '../spec.ts';

/** The helper id of a poisoned instruction; the verifier says `invalid func unknown#195896080`. */
export const CORE_POISON_HELPER = 0xbad2310;

const POISON: Instruction = {
  op: InsnClass.Jmp | JmpOp.Call | InsnSource.K,
  dst: 0,
  src: 0,
  off: 0,
  imm: CORE_POISON_HELPER,
};

/** A CO-RE relocation that cannot be applied: `instruction` is its index in the program. */
export class CoreRelocationError extends ObjectError {
  override name = 'CoreRelocationError';
  constructor(
    message: string,
    override readonly instruction: number,
    cause?: CoreError,
  ) {
    super(message);
    if (cause) this.cause = cause;
  }
}

/** Options of {@link applyCoreRelocations}. */
export interface ApplyCoreOptions {
  /**
   * The resolver to use (and keep candidates in) across the programs of one object; by default
   * a new one for `localBtf` and `targets`.
   */
  readonly resolver?: CoreResolver;
  /** The program's name, for messages. */
  readonly program?: string;
}

/**
 * Returns `instructions` with every CO-RE relocation applied against `targets` (the kernel's BTF,
 * then modules'). `relocations[i].insn` indexes `instructions` (an `lddw` is one instruction).
 * A poisoned `lddw` becomes two poison calls, one per slot, so slot positions never move.
 * Throws a {@link CoreRelocationError} naming the instruction when a relocation cannot be computed
 * or does not fit the instruction it is recorded on.
 */
export function applyCoreRelocations(
  instructions: readonly Instruction[],
  relocations: readonly CoreRelocation[],
  localBtf: Btf,
  targets: readonly Btf[],
  options: ApplyCoreOptions = {},
): Instruction[] {
  const resolver = options.resolver ?? new CoreResolver(localBtf, targets);
  const patched: (Instruction | readonly Instruction[])[] = instructions.slice();
  for (const relocation of relocations) {
    const at = relocation.insn;
    const where = `${options.program ? `program ${options.program}, ` : ''}instruction #${at}`;
    const fail = (message: string, cause?: CoreError) =>
      new CoreRelocationError(`${where}: ${message}`, at, cause);
    // A second relocation of one instruction sees the first one's result, as in libbpf.
    const current = patched[at];
    const insn = Array.isArray(current) ? current[0] : (current as Instruction | undefined);
    if (insn === undefined)
      throw fail(`a CO-RE relocation points past the program's ${instructions.length} instructions`);
    let fixup: CoreFixup;
    try {
      fixup = resolver.fixup(relocation);
    } catch (e) {
      if (e instanceof CoreError) throw fail(e.message, e);
      throw e;
    }
    patched[at] = patch(insn, fixup, fail);
  }
  return patched.flat() as Instruction[];
}

const u64 = (v: number | bigint): bigint => BigInt.asUintN(64, BigInt(v));

/** `insn` with `fixup` applied: one instruction, or two poison calls for a poisoned `lddw`. */
function patch(
  insn: Instruction,
  fixup: CoreFixup,
  fail: (message: string) => Error,
): Instruction | readonly Instruction[] {
  const poisoned = isLddw(insn.op) ? [POISON, POISON] : POISON;
  if (fixup.poison) return poisoned;
  const mismatch = (field: string, got: number | bigint): Error =>
    fail(
      `the ${field} is ${got}, but the object's BTF says the compiler put ${fixup.local} there; the object's code and BTF disagree`,
    );
  const cls = insn.op & 0x07;
  switch (cls) {
    case InsnClass.Alu:
    case InsnClass.Alu64:
      if ((insn.op & 0x08) !== InsnSource.K)
        throw fail(`a CO-RE relocation on an ALU instruction with a register source`);
      if (fixup.validate && u64(insn.imm) !== fixup.local) throw mismatch('immediate', insn.imm);
      return { ...insn, imm: Number(BigInt.asIntN(32, fixup.target)) };
    case InsnClass.Ldx:
    case InsnClass.St:
    case InsnClass.Stx: {
      if (fixup.validate && u64(insn.off) !== fixup.local) throw mismatch('offset', insn.off);
      if (fixup.target > 0x7fffn)
        throw fail(`field offset ${fixup.target} does not fit a load/store's 16-bit offset`);
      if (fixup.badSizeChange) return poisoned;
      const off = Number(fixup.target);
      if (fixup.localSize === fixup.targetSize) return { ...insn, off };
      if (accessBytes(insn.op) !== fixup.localSize)
        throw fail(`the access is ${accessBytes(insn.op)} bytes wide, but the field is ${fixup.localSize}`);
      const size = SIZE_CODES.get(fixup.targetSize);
      if (size === undefined)
        throw fail(`the target field is ${fixup.targetSize} bytes, no load or store that wide`);
      return { ...insn, off, op: (insn.op & ~0x18) | size };
    }
    case InsnClass.Ld:
      if (!isLddw(insn.op) || insn.src !== 0 || insn.off !== 0)
        throw fail(`a CO-RE relocation on a load that is not a plain lddw`);
      if (fixup.validate && u64(insn.imm) !== fixup.local) throw mismatch('immediate', insn.imm);
      return { ...insn, imm: BigInt.asIntN(64, fixup.target) };
    default:
      throw fail(`a CO-RE relocation on opcode 0x${insn.op.toString(16)}, which has no field to patch`);
  }
}

const SIZE_CODES = new Map<number, number>([
  [1, InsnSize.B],
  [2, InsnSize.H],
  [4, InsnSize.W],
  [8, InsnSize.Dw],
]);

function accessBytes(op: number): number {
  for (const [bytes, code] of SIZE_CODES) if ((op & 0x18) === code) return bytes;
  return 0;
}
