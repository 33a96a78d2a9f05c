/**
 * Integer constant expressions of C (as used in `#if`, enum values, array sizes and `#define`d
 * constants), evaluated with C's integer types approximated as 32/64-bit signed/unsigned values.
 */
import { CSyntaxError, parseIntLiteral, type Token } from './tokenizer.ts';

/** A C integer value with its type's width and signedness. */
export interface CValue {
  readonly value: bigint;
  readonly bits: 32 | 64;
  readonly unsigned: boolean;
}

/** Scalar types a cast may name, with their width and signedness (LP64). */
export const CAST_TYPES: ReadonlyMap<string, { bits: 32 | 64; unsigned: boolean }> = new Map([
  ['__u8', { bits: 32, unsigned: false }],
  ['__u16', { bits: 32, unsigned: false }],
  ['__u32', { bits: 32, unsigned: true }],
  ['__u64', { bits: 64, unsigned: true }],
  ['__s8', { bits: 32, unsigned: false }],
  ['__s16', { bits: 32, unsigned: false }],
  ['__s32', { bits: 32, unsigned: false }],
  ['__s64', { bits: 64, unsigned: false }],
  ['int', { bits: 32, unsigned: false }],
  ['long', { bits: 64, unsigned: false }],
  ['unsigned', { bits: 32, unsigned: true }],
]);

function wrap(value: bigint, bits: 32 | 64, unsigned: boolean): CValue {
  return { value: unsigned ? BigInt.asUintN(bits, value) : BigInt.asIntN(bits, value), bits, unsigned };
}

function literal(tok: Token): CValue {
  const v = parseIntLiteral(tok);
  const suffix = /[uUlL]*$/.exec(tok.text)![0].toLowerCase();
  const u = suffix.includes('u');
  const l = suffix.includes('l');
  const hexOrOct = /^0[0-7xXbB]/.test(tok.text) && tok.text !== '0';
  if (!l) {
    if (!u && v <= 0x7fffffffn) return { value: v, bits: 32, unsigned: false };
    if ((u || hexOrOct) && v <= 0xffffffffn) return { value: v, bits: 32, unsigned: true };
  }
  if (!u && v <= 0x7fffffffffffffffn) return { value: v, bits: 64, unsigned: false };
  return wrap(v, 64, true);
}

function arith(a: CValue, b: CValue): { bits: 32 | 64; unsigned: boolean } {
  const bits = a.bits === 64 || b.bits === 64 ? 64 : 32;
  const unsigned = (a.unsigned && a.bits === bits) || (b.unsigned && b.bits === bits);
  return { bits, unsigned };
}

const bool = (x: boolean): CValue => ({ value: x ? 1n : 0n, bits: 32, unsigned: false });

/**
 * Evaluates the tokens `toks[start..end)` as a constant expression. `lookup` resolves identifiers
 * (enum constants); it returns undefined for unknown names, which is an error here.
 */
export function evalConstExpr(
  toks: readonly Token[],
  lookup: (name: string) => CValue | undefined,
  where: Token,
): CValue {
  let i = 0;
  const peek = (): Token | undefined => toks[i];
  const fail = (msg: string): never => {
    throw new CSyntaxError(toks[i] ?? toks[toks.length - 1] ?? where, msg);
  };
  const expect = (text: string): void => {
    if (peek()?.text !== text)
      fail(`expected '${text}' in constant expression, found ${peek() ? `'${peek()!.text}'` : 'end'}`);
    i++;
  };

  const primary = (): CValue => {
    const t = peek();
    if (!t) return fail('constant expression expected');
    if (t.kind === 'number') {
      i++;
      return literal(t);
    }
    if (t.kind === 'char') {
      i++;
      const body = t.text.slice(1, -1);
      const simple: Record<string, number> = { '\\n': 10, '\\t': 9, '\\0': 0, "\\'": 39, '\\\\': 92 };
      const code = simple[body] ?? (body.length === 1 ? body.charCodeAt(0) : undefined);
      if (code === undefined) fail(`unsupported character constant ${t.text}`);
      return { value: BigInt(code!), bits: 32, unsigned: false };
    }
    if (t.kind === 'ident') {
      i++;
      const v = lookup(t.text);
      if (!v) {
        throw new CSyntaxError(t, `unknown identifier '${t.text}' in constant expression`);
      }
      return v;
    }
    if (t.text === '(') {
      const next = toks[i + 1];
      // A cast: ( type-name ) unary
      if (
        next?.kind === 'ident' &&
        (CAST_TYPES.has(next.text) || next.text === 'unsigned' || next.text === 'signed')
      ) {
        i++;
        const words: string[] = [];
        while (peek()?.kind === 'ident') words.push(toks[i++]!.text);
        expect(')');
        const v = unary();
        const unsigned =
          words.includes('unsigned') || (CAST_TYPES.get(words[words.length - 1]!)?.unsigned ?? false);
        const bits =
          words.includes('long') || CAST_TYPES.get(words[words.length - 1]!)?.bits === 64 ? 64 : 32;
        return wrap(v.value, bits, unsigned);
      }
      i++;
      const v = ternary();
      expect(')');
      return v;
    }
    return fail(`unexpected '${t.text}' in constant expression`);
  };

  const unary = (): CValue => {
    const t = peek();
    if (t?.kind === 'punct') {
      if (t.text === '-') {
        i++;
        const v = unary();
        return wrap(-v.value, v.bits, v.unsigned);
      }
      if (t.text === '+') {
        i++;
        return unary();
      }
      if (t.text === '~') {
        i++;
        const v = unary();
        return wrap(~v.value, v.bits, v.unsigned);
      }
      if (t.text === '!') {
        i++;
        return bool(unary().value === 0n);
      }
    }
    return primary();
  };

  type Bin = (a: CValue, b: CValue, op: Token) => CValue;
  const levels: Array<Record<string, Bin>> = [
    {
      '*': (a, b) => {
        const t = arith(a, b);
        return wrap(a.value * b.value, t.bits, t.unsigned);
      },
      '/': (a, b, op) => {
        if (b.value === 0n) throw new CSyntaxError(op, 'division by zero in constant expression');
        const t = arith(a, b);
        return wrap(a.value / b.value, t.bits, t.unsigned);
      },
      '%': (a, b, op) => {
        if (b.value === 0n) throw new CSyntaxError(op, 'division by zero in constant expression');
        const t = arith(a, b);
        return wrap(a.value % b.value, t.bits, t.unsigned);
      },
    },
    {
      '+': (a, b) => {
        const t = arith(a, b);
        return wrap(a.value + b.value, t.bits, t.unsigned);
      },
      '-': (a, b) => {
        const t = arith(a, b);
        return wrap(a.value - b.value, t.bits, t.unsigned);
      },
    },
    {
      '<<': (a, b) => wrap(a.value << b.value, a.bits, a.unsigned),
      '>>': (a, b) => wrap(a.value >> b.value, a.bits, a.unsigned),
    },
    {
      '<': (a, b) => bool(a.value < b.value),
      '>': (a, b) => bool(a.value > b.value),
      '<=': (a, b) => bool(a.value <= b.value),
      '>=': (a, b) => bool(a.value >= b.value),
    },
    { '==': (a, b) => bool(a.value === b.value), '!=': (a, b) => bool(a.value !== b.value) },
    {
      '&': (a, b) => {
        const t = arith(a, b);
        return wrap(a.value & b.value, t.bits, t.unsigned);
      },
    },
    {
      '^': (a, b) => {
        const t = arith(a, b);
        return wrap(a.value ^ b.value, t.bits, t.unsigned);
      },
    },
    {
      '|': (a, b) => {
        const t = arith(a, b);
        return wrap(a.value | b.value, t.bits, t.unsigned);
      },
    },
    { '&&': (a, b) => bool(a.value !== 0n && b.value !== 0n) },
    { '||': (a, b) => bool(a.value !== 0n || b.value !== 0n) },
  ];

  const binary = (level: number): CValue => {
    if (level < 0) return unary();
    let left = binary(level - 1);
    for (;;) {
      const t = peek();
      const op = t?.kind === 'punct' ? levels[level]![t.text] : undefined;
      if (!op) return left;
      i++;
      left = op(left, binary(level - 1), t!);
    }
  };

  const ternary = (): CValue => {
    const c = binary(levels.length - 1);
    if (peek()?.text !== '?') return c;
    i++;
    const a = ternary();
    expect(':');
    const b = ternary();
    return c.value !== 0n ? a : b;
  };

  if (toks.length === 0) throw new CSyntaxError(where, 'empty constant expression');
  const v = ternary();
  if (i !== toks.length) fail(`unexpected '${toks[i]!.text}' after constant expression`);
  return v;
}
