import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitraryInstruction } from '../test/arbitrary.ts';
import { assemble, decode, disassemble, encode, parse } from './index.ts';

const programs = fc.array(arbitraryInstruction, { minLength: 1, maxLength: 40 });

describe('round trips over random valid instructions', () => {
  it('decode(encode(x)) = x, little-endian', () => {
    fc.assert(
      fc.property(programs, (x) => {
        expect(decode(encode(x))).toEqual(x);
      }),
      { numRuns: 500 },
    );
  });

  it('decode(encode(x)) = x, big-endian', () => {
    const be = { byteOrder: 'big' } as const;
    fc.assert(
      fc.property(programs, (x) => {
        expect(decode(encode(x, be), be)).toEqual(x);
      }),
      { numRuns: 300 },
    );
  });

  it('assemble(disassemble(x)) = x', () => {
    fc.assert(
      fc.property(programs, (x) => {
        const bytes = encode(x);
        expect(assemble(disassemble(x))).toEqual(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('assemble(disassemble(x)) = x with raw bytes, offsets, invented labels and helper names', () => {
    const options = { rawBytes: true, offsets: true, labels: true, helperNames: true, source: true } as const;
    fc.assert(
      fc.property(programs, (x) => {
        expect(assemble(disassemble(x, options))).toEqual(encode(x));
      }),
      { numRuns: 300 },
    );
  });

  it('parse keeps each instruction on its own line', () => {
    fc.assert(
      fc.property(programs, (x) => {
        const items = parse(disassemble(x));
        expect(items.map((i) => ('meta' in i ? i.meta?.line : undefined))).toEqual(x.map((_, n) => n + 1));
      }),
      { numRuns: 100 },
    );
  });
});
