import {
  AluOp,
  AtomicOp,
  EndianSource,
  InsnClass,
  InsnMode,
  InsnSource,
  PseudoCall,
  PseudoSrc,
} from '@ebpf/uapi';
import { makeInstruction, type Symbolic } from './build.ts';
import { helperId } from './call.ts';
import { describeValue } from './describe.ts';
import { type CodecOptions, encode } from './encode.ts';
import { AsmError, AssembleError } from './errors.ts';
import { type Instruction, type Item, isLabel, type Metadata } from './instruction.ts';
import { pseudoImm } from './ld64.ts';
import { LexError, lex, type Token } from './lexer.ts';
import { aluOperators, CALL, EXIT, GOTOL, JA, jmpOperators, LDDW, MAY_GOTO, sizeOfBytes } from './opcode.ts';
import { link, type Program } from './program.ts';

/** Options of {@link parse} and {@link assemble}. */
export interface AssembleOptions extends CodecOptions {
  /** File name recorded in each instruction's `meta.file`. */
  readonly file?: string;
}

const aluByOperator = new Map<string, [code: number, off: number]>();
for (const [code, sym] of aluOperators) aluByOperator.set(`${sym}=`, [code, 0]);
aluByOperator.set('s/=', [AluOp.Div, 1]);
aluByOperator.set('s%=', [AluOp.Mod, 1]);
const jmpByOperator = new Map<string, number>();
for (const [code, sym] of jmpOperators) jmpByOperator.set(sym, code);
const atomicByOperator = new Map<string, number>([
  ['+=', AluOp.Add],
  ['|=', AluOp.Or],
  ['&=', AluOp.And],
  ['^=', AluOp.Xor],
]);
const fetchByName = new Map<string, number>([
  ['atomic_fetch_add', AluOp.Add | AtomicOp.Fetch],
  ['atomic_fetch_or', AluOp.Or | AtomicOp.Fetch],
  ['atomic_fetch_and', AluOp.And | AtomicOp.Fetch],
  ['atomic_fetch_xor', AluOp.Xor | AtomicOp.Fetch],
]);

/** Internal: a parse failure at a column of the current line. */
class Fail extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

interface Reg {
  index: number;
  wide: boolean;
  column: number;
}

/** Memory operand `(rN + off)`. */
interface Mem {
  base: Reg;
  off: number;
}

// Patterns used per line or per token, built once (a regex literal in a function is a new
// RegExp object each time it is evaluated).
const REGISTER = /^[rw](10|[0-9])$/;
const REGISTER_LIKE = /^[rw][0-9]+$/;
const SIZE_TYPE = /^([us])(8|16|32|64)$/;
const SIGN_EXTEND_TYPE = /^s(8|16|32)$/;
const BYTE_SWAP = /^(le|be|bswap)(16|32|64)$/;
const EXCHANGE = /^(xchg_64|xchg32_32|cmpxchg_64|cmpxchg32_32)$/;
const FILE_FORMAT = /^\S.*file format /;
const DISASSEMBLY_OF = /^Disassembly of section /;
const DIRECTIVE = /^\s*\./;
/** The range a 64-bit immediate may be spelled in (signed or unsigned). */
const MIN_IMM64 = -(1n << 63n);
const MAX_IMM64 = (1n << 64n) - 1n;

/** A cursor over one line's tokens. */
class Cursor {
  i = 0;
  constructor(
    readonly tokens: Token[],
    readonly endColumn: number,
  ) {}

  peek(k = 0): Token | undefined {
    return this.tokens[this.i + k];
  }

  get column(): number {
    return this.peek()?.column ?? this.endColumn;
  }

  next(what: string): Token {
    const t = this.tokens[this.i];
    if (t === undefined) throw new Fail(`expected ${what} at end of line`, this.endColumn);
    this.i++;
    return t;
  }

  is(text: string, k = 0): boolean {
    return this.peek(k)?.text === text;
  }

  accept(text: string): boolean {
    if (!this.is(text)) return false;
    this.i++;
    return true;
  }

  expect(text: string): Token {
    const t = this.peek();
    if (t?.text !== text) throw new Fail(`expected '${text}'${t ? `, found '${t.text}'` : ''}`, this.column);
    this.i++;
    return t;
  }

  end(): void {
    const t = this.peek();
    if (t !== undefined) throw new Fail(`unexpected '${t.text}' after the instruction`, t.column);
  }

  isReg(k = 0): boolean {
    const t = this.peek(k);
    return t?.kind === 'ident' && REGISTER.test(t.text);
  }

  reg(): Reg {
    const t = this.peek();
    if (t?.kind === 'ident' && REGISTER_LIKE.test(t.text)) {
      const index = Number(t.text.slice(1));
      if (index > 10) throw new Fail(`register ${t.text} is out of range (r0 to r10)`, t.column);
      this.i++;
      return { index, wide: t.text[0] === 'r', column: t.column };
    }
    throw new Fail(`expected a register${t ? `, found '${t.text}'` : ''}`, this.column);
  }

  /** An integer with optional sign; `bits`-wide range check (signed or unsigned spelling). */
  int(what: string, min: bigint, max: bigint): bigint {
    const column = this.column;
    let negative = false;
    if (this.is('-') || this.is('+')) negative = this.next('sign').text === '-';
    const t = this.peek();
    if (t?.kind !== 'number')
      throw new Fail(`expected ${what}${t ? `, found '${t.text}'` : ''}`, this.column);
    this.i++;
    const v = negative ? -t.value! : t.value!;
    if (v < min || v > max)
      throw new Fail(`${what} ${negative ? '-' : ''}${t.text} is out of range (${min} to ${max})`, column);
    return v;
  }

  imm32(what = 'immediate'): number {
    return Number(BigInt.asIntN(32, this.int(what, -0x80000000n, 0xffffffffn)));
  }

  off16(what = 'offset'): number {
    return Number(this.int(what, -0x8000n, 0x7fffn));
  }

  isNumber(): boolean {
    const t = this.peek();
    return t?.kind === 'number' || ((t?.text === '-' || t?.text === '+') && this.peek(1)?.kind === 'number');
  }

  ident(what: string): Token {
    const t = this.peek();
    if (t?.kind !== 'ident') throw new Fail(`expected ${what}${t ? `, found '${t.text}'` : ''}`, this.column);
    this.i++;
    return t;
  }

  /** `(rN + off)` or `(rN - off)`, or without parentheses when `parens` is false. */
  mem(parens = true): Mem {
    if (parens) this.expect('(');
    const base = this.reg();
    if (!base.wide)
      throw new Fail(`a memory base must be a 64-bit register, not w${base.index}`, base.column);
    let off = 0;
    if (this.is('+') || this.is('-')) {
      const column = this.column;
      const negative = this.next('sign').text === '-';
      const t = this.peek();
      if (t?.kind !== 'number') throw new Fail('expected an offset', this.column);
      this.i++;
      const v = negative ? -t.value! : t.value!;
      if (v < -0x8000n || v > 0x7fffn)
        throw new Fail(`offset ${negative ? '-' : '+'}${t.text} does not fit in 16 bits`, column);
      off = Number(v);
    }
    if (parens) this.expect(')');
    return { base, off };
  }

  /** `(u32 *)` → size code; `signed` allows `s8`..`s32`. */
  type(signed: boolean): { size: number; signed: boolean; bytes: number } {
    this.expect('(');
    const t = this.ident('a type like u32');
    const m = SIZE_TYPE.exec(t.text);
    if (!m || (m[1] === 's' && (!signed || m[2] === '64')))
      throw new Fail(`'${t.text}' is not a valid access type here`, t.column);
    this.expect('*');
    this.expect(')');
    const bytes = Number(m[2]) / 8;
    return { size: sizeOfBytes(bytes)!, signed: m[1] === 's', bytes };
  }
}

function sameWidth(a: Reg, b: Reg): void {
  if (a.wide !== b.wide) throw new Fail(`register widths differ: mix of r and w registers`, b.column);
}

/** A jump target: `+3`, `-0x1`, or a label name. */
function target(c: Cursor): { value: number; target?: string } {
  if (c.peek()?.kind === 'ident') return { value: 0, target: c.next('label').text };
  if (!c.isNumber()) throw new Fail('expected a jump offset like +3 or a label', c.column);
  return { value: Number(c.int('jump offset', -0x80000000n, 0x7fffffffn)) };
}

interface Context {
  labels: Set<string>;
}

/** Parses one statement (a line without comments, labels and addresses). */
function statement(c: Cursor, sym: (extra?: Symbolic) => Symbolic, context: Context): Instruction {
  const first = c.peek()!;
  const make = (op: number, dst: number, src: number, off: number, imm: number | bigint, extra?: Symbolic) =>
    makeInstruction(op, dst, src, off, imm, sym(extra));
  switch (first.text) {
    case 'exit':
      c.next('exit');
      return make(EXIT, 0, 0, 0, 0);
    case 'goto':
    case 'gotol':
    case 'may_goto': {
      c.next(first.text);
      const t = target(c);
      const extra = t.target === undefined ? undefined : { target: t.target };
      if (first.text === 'gotol') return make(GOTOL, 0, 0, 0, t.value, extra);
      if (t.value < -0x8000 || t.value > 0x7fff) {
        throw new Fail(`jump offset ${t.value} does not fit in 16 bits (use gotol)`, first.column);
      }
      return make(first.text === 'goto' ? JA : MAY_GOTO, 0, 0, t.value, 0, extra);
    }
    case 'call': {
      c.next('call');
      if (c.is('kfunc') && c.peek(1) !== undefined) {
        c.next('kfunc');
        let imm = 0;
        let extra: Symbolic | undefined;
        if (c.peek()?.kind === 'ident') extra = { kfunc: c.next('kfunc name').text };
        else imm = c.imm32('BTF id');
        const off = c.accept(',') ? c.off16('BTF fd index') : 0;
        return make(CALL, 0, PseudoCall.KfuncCall, off, imm, extra);
      }
      if (c.is('+') || c.is('-')) return make(CALL, 0, PseudoCall.Call, 0, c.imm32('call offset'));
      if (c.peek()?.kind === 'ident') {
        const name = c.next('function').text;
        if (context.labels.has(name)) return make(CALL, 0, PseudoCall.Call, 0, 0, { target: name });
        const id = helperId(name);
        if (id === undefined)
          throw new Fail(`'${name}' is neither a label nor a known helper`, c.column - name.length);
        return make(CALL, 0, 0, 0, id);
      }
      return make(CALL, 0, 0, 0, Number(c.int('helper id', 0n, 0x7fffffffn)));
    }
    case 'if': {
      c.next('if');
      const dst = c.reg();
      const opTok = c.next('a comparison');
      const code = jmpByOperator.get(opTok.text);
      if (code === undefined) throw new Fail(`'${opTok.text}' is not a comparison`, opTok.column);
      const cls = dst.wide ? InsnClass.Jmp : InsnClass.Jmp32;
      let src = 0;
      let imm = 0;
      let source: number = InsnSource.K;
      if (c.isReg()) {
        const r = c.reg();
        sameWidth(dst, r);
        src = r.index;
        source = InsnSource.X;
      } else imm = c.imm32();
      c.expect('goto');
      const t = target(c);
      if (t.value < -0x8000 || t.value > 0x7fff)
        throw new Fail(`jump offset ${t.value} does not fit in 16 bits`, first.column);
      return make(
        cls | code | source,
        dst.index,
        src,
        t.value,
        imm,
        t.target === undefined ? undefined : { target: t.target },
      );
    }
    case 'lock': {
      c.next('lock');
      c.expect('*');
      const type = c.type(false);
      const m = c.mem();
      const opTok = c.next('an atomic operator');
      const operation = atomicByOperator.get(opTok.text);
      if (operation === undefined)
        throw new Fail(`'${opTok.text}' is not an atomic operation (+=, |=, &=, ^=)`, opTok.column);
      const src = c.reg();
      if (type.bytes === 8 && !src.wide)
        throw new Fail('a 64-bit atomic needs a 64-bit register', src.column);
      return make(InsnClass.Stx | InsnMode.Atomic | type.size, m.base.index, src.index, m.off, operation);
    }
    case 'store_release': {
      c.next('store_release');
      c.expect('(');
      const type = c.type(false);
      const m = c.mem();
      c.expect(',');
      const src = c.reg();
      c.expect(')');
      return make(
        InsnClass.Stx | InsnMode.Atomic | type.size,
        m.base.index,
        src.index,
        m.off,
        AtomicOp.StoreRel,
      );
    }
    case 'ld_pseudo': {
      c.next('ld_pseudo');
      const dst = c.reg();
      c.expect(',');
      const kind = Number(c.int('pseudo kind', 0n, 6n));
      c.expect(',');
      let lo = 0;
      let extra: Symbolic | undefined;
      if (c.peek()?.kind === 'ident') {
        const name = c.next('name').text;
        extra = kind === PseudoSrc.Func ? { target: name } : { map: name };
      } else lo = c.imm32();
      const hi = c.accept(',') ? c.imm32() : 0;
      return make(LDDW, dst.index, kind, 0, pseudoImm(lo, hi), extra);
    }
    case '*': {
      c.next('*');
      const type = c.type(false);
      const m = c.mem();
      c.expect('=');
      if (c.isReg()) {
        const src = c.reg();
        if (type.bytes === 8 && !src.wide)
          throw new Fail('a 64-bit store needs a 64-bit register', src.column);
        return make(InsnClass.Stx | InsnMode.Mem | type.size, m.base.index, src.index, m.off, 0);
      }
      return make(InsnClass.St | InsnMode.Mem | type.size, m.base.index, 0, m.off, c.imm32());
    }
  }
  if (!REGISTER_LIKE.test(first.text)) throw new Fail(`unknown instruction '${first.text}'`, first.column);
  const dst = c.reg();
  const opTok = c.next('an operator');
  if (opTok.text !== '=') {
    const alu = aluByOperator.get(opTok.text);
    if (alu === undefined) throw new Fail(`'${opTok.text}' is not an ALU operator`, opTok.column);
    const cls = dst.wide ? InsnClass.Alu64 : InsnClass.Alu;
    if (c.isReg()) {
      const src = c.reg();
      sameWidth(dst, src);
      return make(cls | alu[0] | InsnSource.X, dst.index, src.index, alu[1], 0);
    }
    return make(cls | alu[0] | InsnSource.K, dst.index, 0, alu[1], c.imm32());
  }
  return assignment(c, dst, make);
}

type Make = (
  op: number,
  dst: number,
  src: number,
  off: number,
  imm: number | bigint,
  extra?: Symbolic,
) => Instruction;

/** Everything of the form `rN = ...`. */
function assignment(c: Cursor, dst: Reg, make: Make): Instruction {
  const cls = dst.wide ? InsnClass.Alu64 : InsnClass.Alu;
  const t = c.peek();
  if (t === undefined) throw new Fail('expected a value after =', c.endColumn);
  // dst = -dst
  if (t.text === '-' && c.isReg(1)) {
    c.next('-');
    const r = c.reg();
    if (r.index !== dst.index || r.wide !== dst.wide)
      throw new Fail('neg must have the same register on both sides', r.column);
    return make(cls | AluOp.Neg, dst.index, 0, 0, 0);
  }
  // dst = (s8)src
  if (t.text === '(' && c.peek(1)?.kind === 'ident' && SIGN_EXTEND_TYPE.test(c.peek(1)!.text)) {
    c.next('(');
    const bits = Number(c.next('type').text.slice(1));
    c.expect(')');
    const src = c.reg();
    sameWidth(dst, src);
    return make(cls | AluOp.Mov | InsnSource.X, dst.index, src.index, bits, 0);
  }
  if (t.text === '*') {
    c.next('*');
    const type = c.type(true);
    if (c.is('skb')) {
      c.next('skb');
      c.expect('[');
      if (type.bytes === 8 || type.signed) throw new Fail('packet loads are u8, u16 or u32', t.column);
      if (dst.index !== 0) throw new Fail('packet loads write r0', dst.column);
      let insn: Instruction;
      if (c.isReg()) {
        const base = c.reg();
        let imm = 0;
        if (c.is('+') || c.is('-')) {
          const negative = c.next('sign').text === '-';
          const v = c.int('packet offset', 0n, negative ? 0x80000000n : 0xffffffffn);
          imm = Number(BigInt.asIntN(32, negative ? -v : v));
        }
        insn = make(InsnClass.Ld | InsnMode.Ind | type.size, 0, base.index, 0, imm);
      } else insn = make(InsnClass.Ld | InsnMode.Abs | type.size, 0, 0, 0, c.imm32('packet offset'));
      c.expect(']');
      return insn;
    }
    const m = c.mem();
    if (type.signed) {
      return make(InsnClass.Ldx | InsnMode.Memsx | type.size, dst.index, m.base.index, m.off, 0);
    }
    if (type.bytes === 8 && !dst.wide) throw new Fail('a 64-bit load needs a 64-bit register', dst.column);
    return make(InsnClass.Ldx | InsnMode.Mem | type.size, dst.index, m.base.index, m.off, 0);
  }
  if (t.kind === 'ident') {
    const swap = BYTE_SWAP.exec(t.text);
    if (swap && c.isReg(1)) {
      c.next('swap');
      const r = c.reg();
      if (r.index !== dst.index)
        throw new Fail('a byte swap must have the same register on both sides', r.column);
      const bits = Number(swap[2]);
      if (swap[1] === 'bswap') return make(InsnClass.Alu64 | AluOp.End, dst.index, 0, 0, bits);
      const source = swap[1] === 'be' ? EndianSource.ToBe : EndianSource.ToLe;
      return make(InsnClass.Alu | AluOp.End | source, dst.index, 0, 0, bits);
    }
    const fetch = fetchByName.get(t.text);
    if (fetch !== undefined || t.text === 'load_acquire') {
      c.next(t.text);
      c.expect('(');
      const type = c.type(false);
      const m = c.mem();
      if (t.text === 'load_acquire') {
        c.expect(')');
        return make(
          InsnClass.Stx | InsnMode.Atomic | type.size,
          dst.index,
          m.base.index,
          m.off,
          AtomicOp.LoadAcq,
        );
      }
      c.expect(',');
      const src = c.reg();
      c.expect(')');
      if (src.index !== dst.index)
        throw new Fail('a fetching atomic returns into its source register', src.column);
      return make(InsnClass.Stx | InsnMode.Atomic | type.size, m.base.index, src.index, m.off, fetch!);
    }
    const xchg = EXCHANGE.exec(t.text);
    if (xchg) {
      c.next(t.text);
      c.expect('(');
      const m = c.mem(false);
      const wide = t.text.endsWith('_64');
      const size = sizeOfBytes(wide ? 8 : 4)!;
      c.expect(',');
      if (t.text.startsWith('cmpxchg')) {
        const r0 = c.reg();
        if (r0.index !== 0 || dst.index !== 0)
          throw new Fail('cmpxchg compares with r0 and returns into r0', r0.column);
        c.expect(',');
        const src = c.reg();
        c.expect(')');
        return make(InsnClass.Stx | InsnMode.Atomic | size, m.base.index, src.index, m.off, AtomicOp.Cmpxchg);
      }
      const src = c.reg();
      c.expect(')');
      if (src.index !== dst.index) throw new Fail('xchg returns into its source register', src.column);
      return make(InsnClass.Stx | InsnMode.Atomic | size, m.base.index, src.index, m.off, AtomicOp.Xchg);
    }
  }
  if (c.isReg()) {
    const src = c.reg();
    sameWidth(dst, src);
    return make(cls | AluOp.Mov | InsnSource.X, dst.index, src.index, 0, 0);
  }
  if (c.peek()?.kind === 'ident') {
    // r1 = map_name ll
    const name = c.next('map name');
    if (!c.is('ll')) throw new Fail(`expected 'll' after a map name (r1 = ${name.text} ll)`, c.column);
    c.next('ll');
    if (!dst.wide) throw new Fail('lddw needs a 64-bit register', dst.column);
    return make(LDDW, dst.index, PseudoSrc.MapFd, 0, 0n, { map: name.text });
  }
  if (!c.isNumber()) throw new Fail('expected a register, a number or a load', c.column);
  const save = c.i;
  c.int('immediate', MIN_IMM64, MAX_IMM64);
  if (c.is('ll')) {
    c.i = save;
    const v = c.int('64-bit immediate', MIN_IMM64, MAX_IMM64);
    c.next('ll');
    if (!dst.wide) throw new Fail('lddw needs a 64-bit register', dst.column);
    return make(LDDW, dst.index, 0, 0, BigInt.asIntN(64, v));
  }
  c.i = save;
  return make(cls | AluOp.Mov | InsnSource.K, dst.index, 0, 0, c.imm32());
}

const BLOCK_COMMENT = /\/\*[\s\S]*?\*\//g;

/** Strips a line's comment (`#`, `//`, `;`), keeping columns. */
function stripComment(line: string): string {
  let end = line.length;
  for (const mark of ['#', '//', ';']) {
    const at = line.indexOf(mark);
    if (at !== -1 && at < end) end = at;
  }
  return line.slice(0, end);
}

const LABEL_DEF = /^\s*([A-Za-z_.$][\w.$]*)\s*:/;
const OBJDUMP_SYMBOL = /^\s*[0-9a-fA-F]+\s+<([^<>\s]+)>:\s*$/;
const ADDRESS = /^\s*[0-9]+:/;
const RAW_BYTES =
  /^\s*(?:[0-9a-fA-F]{2}\s+){7}[0-9a-fA-F]{2}(?:\s+(?:[0-9a-fA-F]{2}\s+){7}[0-9a-fA-F]{2})?(?=\s|$)/;
const ANNOTATION = /\s+<([^<>\s]*)>\s*$/;

/**
 * Parses LLVM BPF assembly into instructions and labels, each instruction carrying
 * `meta.line`/`meta.column`. Accepts what `llvm-objdump -d` prints (addresses, raw bytes and
 * `<...>` annotations are skipped) and what `llvm-mc -triple bpf` reads (labels, `#`, `//`, `;`
 * and block comments; directives are ignored). Errors are {@link AssembleError}s with line and
 * column.
 */
export function parse(text: string, options: AssembleOptions = {}): Item[] {
  if (typeof text !== 'string') {
    throw new AssembleError(`assembly text must be a string, got ${describeValue(text)}`, 1, 1, '');
  }
  const source = text.replace(BLOCK_COMMENT, (m) => m.replace(/[^\n]/g, ' '));
  const lines = source.split('\n');
  const original = text.split('\n');
  // First pass: label names, so that `call name` can tell functions from helpers.
  const labels = new Set<string>();
  const functions = new Set<string>();
  for (const raw of lines) {
    const line = stripComment(raw);
    const sym = OBJDUMP_SYMBOL.exec(line);
    if (sym) {
      labels.add(sym[1]!);
      functions.add(sym[1]!);
    } else if (!ADDRESS.test(line)) {
      const m = LABEL_DEF.exec(line);
      if (m) labels.add(m[1]!);
    }
  }
  const items: Item[] = [];
  const annotated: { index: number; delta: number | bigint; source: string }[] = [];
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]!;
    const lineNo = index + 1;
    const fail = (message: string, column: number): never => {
      throw new AssembleError(message, lineNo, column, original[index] ?? raw);
    };
    let line = stripComment(raw);
    if (line.trim() === '') continue;
    const sym = OBJDUMP_SYMBOL.exec(line);
    if (sym) {
      items.push({ kind: 'label', name: sym[1]! });
      continue;
    }
    if (FILE_FORMAT.test(line) || DISASSEMBLY_OF.test(line)) continue;
    let offset = 0;
    const blank = (n: number) => {
      line = ' '.repeat(n) + line.slice(n);
    };
    const addr = ADDRESS.exec(line);
    if (addr) {
      blank(addr[0].length);
    } else {
      for (;;) {
        const m = LABEL_DEF.exec(line.slice(offset));
        if (!m) break;
        items.push({ kind: 'label', name: m[1]! });
        offset += m[0].length;
      }
      if (offset > 0) blank(offset);
    }
    const bytes = RAW_BYTES.exec(line);
    if (bytes) blank(bytes[0].length);
    let annotation: string | undefined;
    // Only a line with '<' can carry an annotation: the others skip the regex and its callback.
    if (line.includes('<'))
      line = line.replace(ANNOTATION, (m, name: string) => {
        annotation = name;
        return ' '.repeat(m.length);
      });
    if (DIRECTIVE.test(line)) continue; // directive (.text, .globl, ...)
    let tokens: Token[];
    try {
      tokens = lex(line);
    } catch (e) {
      if (e instanceof LexError) fail(e.message, e.column);
      throw e;
    }
    if (tokens.length === 0) continue;
    const c = new Cursor(tokens, line.trimEnd().length + 1);
    const meta: Metadata =
      options.file === undefined
        ? { line: lineNo, column: tokens[0]!.column }
        : { line: lineNo, column: tokens[0]!.column, file: options.file };
    try {
      let result = statement(c, (extra) => ({ ...extra, meta }), { labels });
      c.end();
      // `goto +0x3 <out>`: the annotation names the label, so the program keeps it symbolic.
      if (
        annotation !== undefined &&
        labels.has(annotation) &&
        result.target === undefined &&
        refersToSlot(result)
      ) {
        annotated.push({ index: items.length, delta: deltaOf(result), source: original[index] ?? raw });
        result = { ...result, target: annotation };
      }
      items.push(result);
    } catch (e) {
      if (e instanceof Fail) fail(e.message, e.column);
      if (e instanceof AssembleError) throw e;
      if (e instanceof AsmError) fail(e.message, tokens[0]!.column);
      throw e;
    }
  }
  checkAnnotations(items, annotated);
  return markFunctions(items, functions);
}

/**
 * Labels that start functions become function labels (`func()`), so linking gives their
 * instructions `meta.func`: objdump's `<name>:` symbols, BPF-to-BPF call targets and function
 * addresses (`ld_pseudo r1, 0x4, name`).
 */
function markFunctions(items: Item[], functions: Set<string>): Item[] {
  for (const item of items) {
    if (!isLabel(item) && item.target !== undefined && refersToFunction(item)) functions.add(item.target);
  }
  if (functions.size === 0) return items;
  return items.map((item) => (isLabel(item) && functions.has(item.name) ? { ...item, func: true } : item));
}

function refersToFunction(insn: Instruction): boolean {
  return (
    (insn.op === CALL && insn.src === PseudoCall.Call) || (insn.op === LDDW && insn.src === PseudoSrc.Func)
  );
}

/** A numeric jump with a `<label>` annotation must reach that label. */
function checkAnnotations(
  items: readonly Item[],
  annotated: { index: number; delta: number | bigint; source: string }[],
) {
  if (annotated.length === 0) return;
  const slotOfItem: number[] = [];
  const labelSlot = new Map<string, number>();
  let slot = 0;
  for (const item of items) {
    slotOfItem.push(slot);
    if (isLabel(item)) labelSlot.set(item.name, slot);
    else slot += item.op === LDDW ? 2 : 1;
  }
  for (const { index, delta, source } of annotated) {
    const insn = items[index] as Instruction;
    const want = (labelSlot.get(insn.target!) ?? 0) - slotOfItem[index]! - 1;
    if (BigInt(delta) !== BigInt(want)) {
      throw new AssembleError(
        `offset ${String(delta)} does not reach <${insn.target}> (that would be ${want})`,
        insn.meta?.line ?? 1,
        insn.meta?.column ?? 1,
        source,
      );
    }
  }
}

/** True for instructions whose offset or immediate is a slot delta: jumps, BPF calls, function addresses. */
function refersToSlot(insn: Instruction): boolean {
  if (insn.op === LDDW) return insn.src === PseudoSrc.Func;
  if (insn.op === CALL) return insn.src === PseudoCall.Call;
  if (insn.op === EXIT) return false;
  const cls = insn.op & 0x07;
  return cls === InsnClass.Jmp || cls === InsnClass.Jmp32;
}

/** The slot delta an instruction holds (jump offset, gotol/call imm, function address). */
function deltaOf(insn: Instruction): number | bigint {
  if (insn.op === LDDW) return BigInt.asIntN(32, insn.imm as bigint);
  if (insn.op === CALL || insn.op === GOTOL) return insn.imm;
  return insn.off;
}

/** Parses and links assembly text into a `Program` (labels resolved, references listed). */
export function assembleProgram(text: string, options: AssembleOptions = {}): Program {
  const items = parse(text, options);
  try {
    return link(items);
  } catch (e) {
    throw atSourceLine(
      e,
      items.filter((item): item is Instruction => !isLabel(item)),
      text,
    );
  }
}

/** An `AsmError` about instruction `index` made an `AssembleError` at that instruction's line. */
function atSourceLine(e: unknown, instructions: readonly Instruction[], text: string): unknown {
  if (!(e instanceof AsmError) || !('index' in e) || typeof e.index !== 'number') return e;
  const meta = instructions[e.index]?.meta;
  if (meta?.line === undefined) return e;
  const src = text.split('\n')[meta.line - 1] ?? '';
  return new AssembleError(e.message, meta.line, meta.column ?? 1, src);
}

/**
 * Assembles LLVM BPF assembly text into instruction bytes (see {@link parse} for the syntax);
 * errors are {@link AssembleError}s with line and column. A map reference (`r1 = counts ll`)
 * cannot become bytes before it is resolved: use {@link assembleProgram} and resolve it.
 */
export function assemble(text: string, options: AssembleOptions = {}): Uint8Array {
  const program = assembleProgram(text, options);
  try {
    return encode(program, options);
  } catch (e) {
    throw atSourceLine(e, program.instructions, text);
  }
}
