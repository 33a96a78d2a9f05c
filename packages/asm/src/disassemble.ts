import {
  AluOp,
  AtomicOp,
  EndianSource,
  InsnClass,
  InsnMode,
  InsnSize,
  InsnSource,
  PseudoCall,
  PseudoSrc,
} from '@ebpf/uapi';
import { helperName } from './call.ts';
import { decode } from './decode.ts';
import { type ByteOrder, type HasInstructions, isLittleEndian, toInstructions } from './encode.ts';
import { disp, hex, rel } from './format.ts';
import type { Instruction, Item, Metadata } from './instruction.ts';
import { splitImm } from './ld64.ts';
import {
  aluOperators,
  CALL,
  EXIT,
  GOTOL,
  JA,
  jmpOperators,
  LDDW,
  MAY_GOTO,
  opClass,
  opCode,
  opMode,
  opSize,
  opSource,
  sizeBytes,
} from './opcode.ts';

/** Options of {@link disassemble}. */
export interface DisassembleOptions {
  /** Byte order of `bytes` input. Default `'little'`. */
  readonly byteOrder?: ByteOrder;
  /** Prefix each line with its slot index, like `llvm-objdump` (`  12:\t`). Default false. */
  readonly offsets?: boolean;
  /** Print each instruction's bytes (hex) before its text. Default false. */
  readonly rawBytes?: boolean;
  /**
   * `'symbols'` (default): print `name:` lines for labelled instructions and annotate jumps and
   * calls to them with `<name>`; `true`: also invent `L<slot>` labels for unlabelled targets;
   * `false`: no labels.
   */
  readonly labels?: boolean | 'symbols';
  /** Print helper calls by C name (`call bpf_map_lookup_elem`) instead of id. Default false. */
  readonly helperNames?: boolean;
  /**
   * Name the value register of 8-, 16- and 32-bit loads, stores and `lock +=` by its 32-bit view
   * (`w0 = *(u32 *)(r1 + 0x4)`), as `llvm-objdump --mattr=+alu32` does. Default false: the
   * 64-bit name, as plain `llvm-objdump -d` prints (`r0 = *(u32 *)(r1 + 0x4)`). Both read back
   * to the same bytes.
   */
  readonly alu32?: boolean;
  /**
   * Print each instruction's metadata (see `Instruction.meta`) as a `;` comment line whenever it
   * changes, like `llvm-objdump -l`: `; main at prog.s:12`, `; main`, `; line 12`. The
   * assembler skips these comments. Default false.
   */
  readonly source?: boolean;
  /**
   * `'roundtrip'` (default): text {@link assemble} reads back to the same instructions.
   * `'llvm-objdump'`: each instruction's text exactly as `llvm-objdump-16 -d` prints it, for
   * diffing against LLVM tools; it does not always read back, because LLVM prints forms alike
   * that differ: a BPF-to-BPF call `call 0x3` as a helper call, a kfunc call `call 0x1234`
   * without its module, `ld_pseudo` without its second immediate. Instructions LLVM 16 predates
   * (cpu v4, `jset`, stores of immediates), which it prints as `<unknown>`, keep their text.
   */
  readonly syntax?: 'roundtrip' | 'llvm-objdump';
}

/** Prefix of a load's or store's value register: `w` for narrow accesses in alu32 flavour. */
const valueReg = (size: number, options: DisassembleOptions): 'r' | 'w' =>
  size !== InsnSize.Dw && options.alu32 ? 'w' : 'r';
const memType = (size: number, signed = false): string => `${signed ? 's' : 'u'}${sizeBytes(size) * 8}`;
const atomicNames = new Map<number, string>([
  [AluOp.Add, 'add'],
  [AluOp.Or, 'or'],
  [AluOp.And, 'and'],
  [AluOp.Xor, 'xor'],
]);

/**
 * The text of one instruction in LLVM's BPF assembly syntax, as `llvm-objdump -d` prints it
 * (immediates in hex; see `DisassembleOptions.alu32` for register names). Jump offsets are
 * numeric; `annotation` is appended as ` <annotation>`.
 */
export function formatInstruction(
  insn: Instruction,
  options: DisassembleOptions = {},
  annotation?: string,
): string {
  const text = body(insn, options);
  return annotation === undefined ? text : `${text} <${annotation}>`;
}

function body(insn: Instruction, options: DisassembleOptions): string {
  const { op, dst, src, off } = insn;
  const cls = opClass(op);
  switch (cls) {
    case InsnClass.Alu:
    case InsnClass.Alu64: {
      const imm = insn.imm as number;
      const p = cls === InsnClass.Alu64 ? 'r' : 'w';
      const code = opCode(op);
      const x = opSource(op) === InsnSource.X;
      if (code === AluOp.End) {
        if (cls === InsnClass.Alu64) return `r${dst} = bswap${imm} r${dst}`;
        return `r${dst} = ${opSource(op) === EndianSource.ToBe ? 'be' : 'le'}${imm} r${dst}`;
      }
      if (code === AluOp.Neg) return `${p}${dst} = -${p}${dst}`;
      if (code === AluOp.Mov) {
        if (!x) return `${p}${dst} = ${hex(imm)}`;
        return off === 0 ? `${p}${dst} = ${p}${src}` : `${p}${dst} = (s${off})${p}${src}`;
      }
      const sign = off === 1 ? 's' : '';
      return `${p}${dst} ${sign}${aluOperators.get(code)}= ${x ? `${p}${src}` : hex(imm)}`;
    }
    case InsnClass.Jmp:
    case InsnClass.Jmp32: {
      const imm = insn.imm as number;
      if (op === JA) return `goto ${rel(off)}`;
      if (op === GOTOL) return `gotol ${rel(imm)}`;
      if (op === MAY_GOTO) return `may_goto ${rel(off)}`;
      if (op === EXIT) return 'exit';
      if (op === CALL) {
        const llvm = options.syntax === 'llvm-objdump';
        if (src === PseudoCall.Call) return `call ${llvm ? hex(imm) : rel(imm)}`;
        if (src === PseudoCall.KfuncCall) {
          if (llvm) return `call ${hex(imm)}`;
          const what = insn.kfunc ?? hex(imm);
          return off === 0 ? `call kfunc ${what}` : `call kfunc ${what}, ${hex(off)}`;
        }
        const name = options.helperNames ? helperName(imm) : undefined;
        return `call ${name ?? hex(imm)}`;
      }
      const p = cls === InsnClass.Jmp ? 'r' : 'w';
      const rhs = opSource(op) === InsnSource.X ? `${p}${src}` : hex(imm);
      return `if ${p}${dst} ${jmpOperators.get(opCode(op))} ${rhs} goto ${rel(off)}`;
    }
    case InsnClass.Ld: {
      if (op === LDDW) {
        const imm = insn.imm as bigint;
        if (src === 0) return `r${dst} = ${hex(imm)} ll`;
        if (src === PseudoSrc.MapFd && insn.map !== undefined) return `r${dst} = ${insn.map} ll`;
        // fds, indexes, BTF ids and value offsets are unsigned: LLVM prints them so.
        const [lo, hi] = splitImm(imm);
        const first = insn.map ?? hex(lo >>> 0);
        if (options.syntax === 'llvm-objdump') return `ld_pseudo\tr${dst}, ${hex(src)}, ${first}`;
        return `ld_pseudo r${dst}, ${hex(src)}, ${first}${hi === 0 ? '' : `, ${hex(hi >>> 0)}`}`;
      }
      const imm = insn.imm as number;
      const type = memType(opSize(op));
      if (opMode(op) === InsnMode.Abs) return `r0 = *(${type} *)skb[${hex(imm)}]`;
      return `r0 = *(${type} *)skb[r${src}${imm === 0 ? '' : ` ${disp(imm)}`}]`;
    }
    case InsnClass.Ldx: {
      const size = opSize(op);
      if (opMode(op) === InsnMode.Memsx) return `r${dst} = *(${memType(size, true)} *)(r${src} ${disp(off)})`;
      return `${valueReg(size, options)}${dst} = *(${memType(size)} *)(r${src} ${disp(off)})`;
    }
    case InsnClass.St:
      return `*(${memType(opSize(op))} *)(r${dst} ${disp(off)}) = ${hex(insn.imm as number)}`;
    default: {
      const size = opSize(op);
      const p = size === InsnSize.Dw ? 'r' : 'w';
      const type = memType(size);
      const addr = `r${dst} ${disp(off)}`;
      if (opMode(op) === InsnMode.Mem) return `*(${type} *)(${addr}) = ${valueReg(size, options)}${src}`;
      const imm = insn.imm as number;
      if (imm === AtomicOp.LoadAcq) return `${p}${dst} = load_acquire((${type} *)(r${src} ${disp(off)}))`;
      if (imm === AtomicOp.StoreRel) return `store_release((${type} *)(${addr}), ${p}${src})`;
      if (imm === AtomicOp.Xchg) {
        return size === InsnSize.Dw
          ? `r${src} = xchg_64(${addr}, r${src})`
          : `w${src} = xchg32_32(${addr}, w${src})`;
      }
      if (imm === AtomicOp.Cmpxchg) {
        return size === InsnSize.Dw
          ? `r0 = cmpxchg_64(${addr}, r0, r${src})`
          : `w0 = cmpxchg32_32(${addr}, w0, w${src})`;
      }
      const base = imm & ~AtomicOp.Fetch;
      if (imm & AtomicOp.Fetch)
        return `${p}${src} = atomic_fetch_${atomicNames.get(base)}((${type} *)(${addr}), ${p}${src})`;
      // LLVM without alu32 knows only the 32-bit `lock +=` (and prints r); the rest need alu32.
      const q = base === AluOp.Add ? valueReg(size, options) : p;
      return `lock *(${type} *)(${addr}) ${aluOperators.get(base)}= ${q}${src}`;
    }
  }
}

/** `main at prog.s:12`, `main`, `prog.s:12`, `line 12`, or '' when nothing is known. */
function sourceComment(meta: Metadata | undefined): string {
  if (meta === undefined) return '';
  const { func, file, line } = meta;
  const at = line === undefined ? (file ?? '') : file === undefined ? `line ${line}` : `${file}:${line}`;
  if (func === undefined) return at;
  return at === '' ? func : `${func} at ${at}`;
}

/** Slot delta a jump, call or function address refers to, or undefined for other instructions. */
function targetDelta(insn: Instruction): number | undefined {
  const { op } = insn;
  if (op === LDDW) return insn.src === PseudoSrc.Func ? splitImm(insn.imm as bigint)[0] : undefined;
  if (op === GOTOL) return insn.imm as number;
  if (op === CALL) return insn.src === PseudoCall.Call ? (insn.imm as number) : undefined;
  if (op === EXIT) return undefined;
  const cls = opClass(op);
  return cls === InsnClass.Jmp || cls === InsnClass.Jmp32 ? insn.off : undefined;
}

function hexBytes(insn: Instruction, little: boolean): string {
  const b = new Uint8Array(insn.op === LDDW ? 16 : 8);
  const view = new DataView(b.buffer);
  b[0] = insn.op;
  b[1] = little ? (insn.src << 4) | insn.dst : (insn.dst << 4) | insn.src;
  view.setInt16(2, insn.off, little);
  if (insn.op === LDDW) {
    const [lo, hi] = splitImm(insn.imm as bigint);
    view.setInt32(4, lo, little);
    view.setInt32(12, hi, little);
  } else view.setInt32(4, insn.imm as number, little);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Prints a program (bytes, decoded first, or instructions, or a `Program`) in LLVM's BPF syntax,
 * one instruction a line, so that `assemble(disassemble(x))` gives `x` back. Without options
 * the text of each instruction matches `llvm-objdump -d --no-show-raw-insn`; with `alu32` it
 * matches `llvm-objdump -d --no-show-raw-insn --mattr=+alu32`.
 * Forms LLVM cannot tell apart get distinct text: BPF-to-BPF calls `call +0x3`, kfunc calls
 * `call kfunc 0x1234`, pseudo `lddw` `ld_pseudo r1, 0x2, 0x5, 0x10` (fd, then value offset);
 * `syntax: 'llvm-objdump'` prints them as LLVM does instead.
 */
export function disassemble(
  input: Uint8Array | HasInstructions | readonly Item[],
  options: DisassembleOptions = {},
): string {
  const instructions =
    input instanceof Uint8Array
      ? decode(input, options.byteOrder ? { byteOrder: options.byteOrder } : {})
      : toInstructions(input);
  const labelMode = options.labels ?? 'symbols';
  const little = isLittleEndian(options);
  const slotIndex: number[] = [];
  const bySlot = new Map<number, string>();
  let slot = 0;
  for (const insn of instructions) {
    slotIndex.push(slot);
    if (insn.symbol !== undefined) bySlot.set(slot, insn.symbol);
    slot += insn.op === LDDW ? 2 : 1;
  }
  if (labelMode === true) {
    instructions.forEach((insn, i) => {
      const delta = targetDelta(insn);
      if (delta === undefined) return;
      const at = slotIndex[i]! + delta + 1;
      if (!bySlot.has(at) && at >= 0 && at < slot) bySlot.set(at, `L${at}`);
    });
  }
  const lines: string[] = [];
  let lastSource = '';
  instructions.forEach((insn, i) => {
    const at = slotIndex[i]!;
    const name = labelMode === false ? undefined : bySlot.get(at);
    if (name !== undefined) lines.push(`${name}:`);
    if (options.source) {
      const where = sourceComment(insn.meta);
      if (where !== '' && where !== lastSource) lines.push(`; ${where}`);
      lastSource = where;
    }
    let annotation: string | undefined;
    const delta = targetDelta(insn);
    if (delta !== undefined && labelMode !== false) annotation = bySlot.get(at + delta + 1);
    let line = formatInstruction(insn, options, annotation);
    if (options.rawBytes) line = `${hexBytes(insn, little)}\t${line}`;
    if (options.offsets) line = `${String(at).padStart(4)}:\t${line}`;
    lines.push(line);
  });
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
