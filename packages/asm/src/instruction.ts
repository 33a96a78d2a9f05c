import {
  AluOp,
  AtomicOp,
  InsnClass,
  InsnMode,
  InsnSize,
  InsnSource,
  PseudoCall,
  PseudoSrc,
} from '@ebpf/uapi';
import { InvalidInstructionError } from './errors.ts';
import {
  CALL,
  EXIT,
  GOTOL,
  isConditionalJump,
  JA,
  LDDW,
  MAY_GOTO,
  opClass,
  opCode,
  opMode,
  opSize,
  opSource,
} from './opcode.ts';

/** Where an instruction came from, carried through linking untouched. */
export interface Metadata {
  /** 1-based source line. */
  readonly line?: number;
  /** 1-based source column. */
  readonly column?: number;
  /** Source file name. */
  readonly file?: string;
  /** Name of the function (BPF subprogram) the instruction belongs to. */
  readonly func?: string;
}

/**
 * One eBPF instruction. `lddw` is one `Instruction` (two 8-byte slots) whose `imm` is a bigint
 * holding all 64 bits (for pseudo forms: low 32 bits = first slot's imm, high 32 = second's);
 * every other instruction has a 32-bit signed `imm` number.
 *
 * The optional fields are symbolic: `target` names a label that {@link link} turns into the
 * jump offset (or call / function-address delta); `map` and `kfunc` name a map and a kernel
 * function that stay symbolic for the loader (see `Program.references()`); `symbol` is the label
 * that marks this instruction.
 */
export interface Instruction {
  /** Opcode byte. */
  readonly op: number;
  /** Destination register, 0 to 10. */
  readonly dst: number;
  /** Source register (or pseudo kind for `lddw` and `call`), 0 to 10. */
  readonly src: number;
  /** Signed 16-bit offset. */
  readonly off: number;
  /** Signed 32-bit immediate; a signed 64-bit bigint for `lddw`. */
  readonly imm: number | bigint;
  /** Label this jump, call or function address refers to, resolved by {@link link}. */
  readonly target?: string;
  /** Map this `lddw` refers to by name, filled in by a loader. */
  readonly map?: string;
  /** Kernel function this call refers to by name, filled in by a loader. */
  readonly kfunc?: string;
  /** Label that marks this instruction. */
  readonly symbol?: string;
  /** Source position and function name. */
  readonly meta?: Metadata;
}

/** A label in a list of builders' output: names the next instruction. */
export interface Label {
  readonly kind: 'label';
  readonly name: string;
  /** True when the label starts a function (subprogram); its instructions get `meta.func`. */
  readonly func?: boolean;
}

/** An instruction or a label, as builders produce and {@link link} consumes. */
export type Item = Instruction | Label;

/** True for a {@link Label}. */
export function isLabel(item: Item): item is Label {
  return (item as Label).kind === 'label';
}

/** True when `op` is the two-slot `lddw`. */
export function isLddw(op: number): boolean {
  return op === LDDW;
}

/** Number of 8-byte slots an instruction occupies (2 for `lddw`, else 1). */
export function slots(insn: Instruction): 1 | 2 {
  return insn.op === LDDW ? 2 : 1;
}

const atomicAluOps = new Set<number>([AluOp.Add, AluOp.Or, AluOp.And, AluOp.Xor]);

/** The valid `imm` values of an atomic instruction of this size. */
export function isValidAtomicImm(imm: number, size: number): boolean {
  if (imm === AtomicOp.LoadAcq || imm === AtomicOp.StoreRel) return true;
  if (size !== InsnSize.W && size !== InsnSize.Dw) return false;
  if (imm === AtomicOp.Xchg || imm === AtomicOp.Cmpxchg) return true;
  return atomicAluOps.has(imm & ~AtomicOp.Fetch);
}

const MAX_REG = 10;

function regOk(r: number): boolean {
  return Number.isInteger(r) && r >= 0 && r <= MAX_REG;
}

function need(cond: boolean, field: string, what: string): string | undefined {
  return cond ? undefined : `${field} ${what}`;
}

/** Bounds of a 64-bit immediate (either signedness), built once: bigint arithmetic allocates. */
const minImm64 = -(1n << 63n);
const limitImm64 = 1n << 64n;

/**
 * Why this instruction is not a valid, canonical encoding (unknown opcode, field out of range,
 * a reserved field not zero), or undefined when it is. Shared by the encoder, the decoder and
 * the builders so all three accept exactly the same set.
 */
export function instructionProblem(insn: Instruction): [field: string, reason: string] | undefined {
  const { op, dst, src, off, imm } = insn;
  if (!Number.isInteger(op) || op < 0 || op > 0xff) return ['op', `opcode ${op} is not a byte`];
  if (!regOk(dst)) return ['dst', `destination register r${dst} is out of range (r0 to r10)`];
  if (!Number.isInteger(src) || src < 0 || src > 15) return ['src', `source field ${src} is out of range`];
  if (!Number.isInteger(off) || off < -0x8000 || off > 0x7fff) {
    return ['off', `offset ${off} does not fit in a signed 16-bit field`];
  }
  if (op === LDDW) {
    if (typeof imm !== 'bigint') return ['imm', 'lddw needs a bigint immediate'];
    if (imm < minImm64 || imm >= limitImm64) return ['imm', `immediate ${imm} does not fit in 64 bits`];
    if (src > PseudoSrc.MapIdxValue) return ['src', `lddw pseudo source ${src} is unknown`];
    return off === 0 ? undefined : ['off', 'lddw offset must be 0'];
  }
  if (typeof imm !== 'number' || !Number.isInteger(imm) || imm < -0x80000000 || imm > 0x7fffffff) {
    return ['imm', `immediate ${String(imm)} does not fit in a signed 32-bit field`];
  }
  const reason = shapeProblem(op, dst, src, off, imm);
  if (reason === undefined) return undefined;
  const field = reason.split(' ', 1)[0]!;
  return [['dst', 'src', 'off', 'imm'].includes(field) ? field : 'op', reason];
}

function shapeProblem(op: number, dst: number, src: number, off: number, imm: number): string | undefined {
  const cls = opClass(op);
  switch (cls) {
    case InsnClass.Alu:
    case InsnClass.Alu64: {
      const code = opCode(op);
      const x = opSource(op) === InsnSource.X;
      if (code === 0xe0 || code === 0xf0) return `opcode 0x${hex2(op)} is not an ALU operation`;
      if (code === AluOp.End) {
        if (cls === InsnClass.Alu64 && x) return `opcode 0x${hex2(op)} is not a byte swap`;
        if (imm !== 16 && imm !== 32 && imm !== 64) return `imm byte swap width ${imm} must be 16, 32 or 64`;
        return need(src === 0, 'src', 'must be 0 for a byte swap') ?? need(off === 0, 'off', 'must be 0');
      }
      if (code === AluOp.Neg) {
        if (x) return `opcode 0x${hex2(op)} is not valid (neg takes no source)`;
        return (
          need(src === 0, 'src', 'must be 0') ??
          need(off === 0, 'off', 'must be 0') ??
          need(imm === 0, 'imm', 'must be 0 for neg')
        );
      }
      if (x) {
        if (!regOk(src)) return `src register r${src} is out of range (r0 to r10)`;
        const r = need(imm === 0, 'imm', 'must be 0 with a register source');
        if (r) return r;
      } else if (src !== 0) return 'src must be 0 with an immediate source';
      if (code === AluOp.Div || code === AluOp.Mod)
        return need(off === 0 || off === 1, 'off', 'must be 0 or 1 (signed)');
      if (code === AluOp.Mov && x) {
        const ok = off === 0 || off === 8 || off === 16 || (off === 32 && cls === InsnClass.Alu64);
        // Messages with numbers in them are built only on failure: valid instructions allocate nothing.
        return ok
          ? undefined
          : `off ${off} is not a sign-extension width for ${cls === InsnClass.Alu64 ? 'mov' : 'mov32'}`;
      }
      return need(off === 0, 'off', 'must be 0');
    }
    case InsnClass.Jmp:
    case InsnClass.Jmp32: {
      const code = opCode(op);
      const x = opSource(op) === InsnSource.X;
      if (op === JA)
        return (
          need(dst === 0 && src === 0, 'dst', 'and src must be 0 for goto') ??
          need(imm === 0, 'imm', 'must be 0 for goto')
        );
      if (op === GOTOL)
        return (
          need(dst === 0 && src === 0, 'dst', 'and src must be 0 for gotol') ??
          need(off === 0, 'off', 'must be 0 for gotol')
        );
      if (op === MAY_GOTO)
        return (
          need(dst === 0 && src === 0, 'dst', 'and src must be 0 for may_goto') ??
          need(imm === 0, 'imm', 'must be 0 for may_goto')
        );
      if (op === EXIT)
        return need(
          dst === 0 && src === 0 && off === 0 && imm === 0,
          'dst',
          'src, off and imm must be 0 for exit',
        );
      if (op === CALL) {
        if (dst !== 0) return 'dst must be 0 for call';
        if (src === 0)
          return (
            need(off === 0, 'off', 'must be 0 for a helper call') ??
            need(imm >= 0, 'imm', 'helper id must not be negative')
          );
        if (src === PseudoCall.Call) return need(off === 0, 'off', 'must be 0 for a BPF-to-BPF call');
        if (src === PseudoCall.KfuncCall) return undefined;
        return `src ${src} is not a call kind (0 helper, 1 BPF-to-BPF, 2 kfunc)`;
      }
      if (!isConditionalJump(code)) return `opcode 0x${hex2(op)} is not a jump`;
      if (x) {
        if (!regOk(src)) return `src register r${src} is out of range (r0 to r10)`;
        return need(imm === 0, 'imm', 'must be 0 with a register source');
      }
      return need(src === 0, 'src', 'must be 0 with an immediate source');
    }
    case InsnClass.Ld: {
      const mode = opMode(op);
      const size = opSize(op);
      if ((mode !== InsnMode.Abs && mode !== InsnMode.Ind) || size === InsnSize.Dw) {
        return `opcode 0x${hex2(op)} is not a valid load`;
      }
      if (dst !== 0 || off !== 0) return 'dst and off must be 0 for legacy packet loads';
      if (mode === InsnMode.Abs) return need(src === 0, 'src', 'must be 0 for ld_abs');
      return regOk(src) ? undefined : `src register r${src} is out of range (r0 to r10)`;
    }
    case InsnClass.Ldx: {
      const mode = opMode(op);
      if (mode !== InsnMode.Mem && !(mode === InsnMode.Memsx && opSize(op) !== InsnSize.Dw)) {
        return `opcode 0x${hex2(op)} is not a valid load`;
      }
      if (!regOk(src)) return `src register r${src} is out of range (r0 to r10)`;
      return need(imm === 0, 'imm', 'must be 0 for a load');
    }
    case InsnClass.St:
      if (opMode(op) !== InsnMode.Mem) return `opcode 0x${hex2(op)} is not a valid store`;
      return need(src === 0, 'src', 'must be 0 for a store of an immediate');
    default: {
      // InsnClass.Stx
      const mode = opMode(op);
      if (!regOk(src)) return `src register r${src} is out of range (r0 to r10)`;
      if (mode === InsnMode.Mem) return need(imm === 0, 'imm', 'must be 0 for a store');
      if (mode !== InsnMode.Atomic) return `opcode 0x${hex2(op)} is not a valid store`;
      return isValidAtomicImm(imm, opSize(op))
        ? undefined
        : `imm 0x${imm.toString(16)} is not an atomic operation for this width`;
    }
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Throws {@link InvalidInstructionError} unless `insn` is a valid, canonical instruction. */
export function checkInstruction(insn: Instruction, index?: number): void {
  const problem = instructionProblem(insn);
  if (problem === undefined) return;
  const options: { field: string; index?: number } = { field: problem[0] };
  if (index !== undefined) options.index = index;
  throw new InvalidInstructionError(problem[1], options);
}
