import { describe, expect, it } from 'vitest';
import { type CValue, evalConstExpr } from './expr.ts';
import { tokenize } from './tokenizer.ts';

function ev(src: string, names: Record<string, number> = {}): bigint {
  const { tokens } = tokenize(src, 'e.h');
  const lookup = (n: string): CValue | undefined =>
    n in names ? { value: BigInt(names[n]!), bits: 32, unsigned: false } : undefined;
  return evalConstExpr(tokens, lookup, tokens[0]!).value;
}

describe('evalConstExpr', () => {
  it.each([
    ['1 + 2 * 3', 7n],
    ['(1 + 2) * 3', 9n],
    ['1U << 31', 0x80000000n],
    ['1ULL << 63', 0x8000000000000000n],
    ['0xf0 | 0x01', 0xf1n],
    ['~0U', 0xffffffffn],
    ['~0ULL', 0xffffffffffffffffn],
    ['-1', -1n],
    ['(__u32)-1', 0xffffffffn],
    ['(-1L)', -1n],
    ['0xfffff00000000ULL', 0xfffff00000000n],
    ['3 > 2 && 1 ? 10 : 20', 10n],
    ['!0 + !5', 1n],
    ["'A'", 65n],
    ['A | B << 2', 0b1101n],
  ])('%s = %s', (src, value) => {
    expect(ev(src, { A: 1, B: 3 })).toBe(value);
  });

  it.each([
    ['1 +', 'e.h:1: constant expression expected'],
    ['UNKNOWN + 1', "e.h:1: unknown identifier 'UNKNOWN' in constant expression"],
    ['(1 + 2', "e.h:1: expected ')' in constant expression, found end"],
    ['4 / 0', 'e.h:1: division by zero in constant expression'],
    ['1 2', "e.h:1: unexpected '2' after constant expression"],
  ])('%s fails with %s', (src, message) => {
    expect(() => ev(src)).toThrow(message);
  });
});
