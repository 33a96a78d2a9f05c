import { describe, expect, it } from 'vitest';
import {
  AssembleError,
  assemble,
  call,
  DecodeError,
  decode,
  encode,
  exit,
  InvalidInstructionError,
  ja,
  jeq,
  LinkError,
  label,
  lddw,
  ldxdw,
  link,
  mov32,
  mov64,
  R0,
  R1,
  R10,
  register,
  stxdw,
  stxw,
} from './index.ts';

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));

describe('builders refuse invalid input with typed errors', () => {
  it.each([
    ['register out of range', () => register(11)],
    ['a number where a register goes', () => mov64(5 as never, 1)],
    ['an immediate beyond 32 bits', () => mov64(R0, 2 ** 32)],
    ['a non-integer immediate', () => mov32(R0, 1.5)],
    ['an offset beyond 16 bits', () => ldxdw(R0, R1, 0x8000)],
    ['a jump offset beyond 16 bits', () => ja(40000)],
    ['writing r10', () => mov64(R10, 0)],
    ['a misaligned stack store', () => stxdw(R10, -4, R1)],
    ['a stack store below the stack', () => stxw(R10, -516, R1)],
    ['a stack store above the frame pointer', () => stxw(R10, 0, R1)],
    ['an unknown helper', () => call('no_such_helper')],
    ['a 64-bit immediate beyond 64 bits', () => lddw(R0, 1n << 64n)],
  ])('%s', (_name, build) => {
    expect(build).toThrow(InvalidInstructionError);
  });

  it('names the field at fault', () => {
    try {
      ldxdw(R0, R1, 0x8000);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidInstructionError);
      expect((e as InvalidInstructionError).field).toBe('off');
    }
  });

  it('encode refuses a hand-made invalid instruction', () => {
    expect(() => encode([{ op: 0x07, dst: 12, src: 0, off: 0, imm: 0 }])).toThrow(/out of range/);
    expect(() => encode([{ op: 0xff, dst: 0, src: 0, off: 0, imm: 0 }])).toThrow(InvalidInstructionError);
    expect(() => encode([{ op: 0x18, dst: 0, src: 0, off: 0, imm: 1 }])).toThrow(/bigint/);
  });
});

describe('link errors', () => {
  it('an unknown label names it and the known ones', () => {
    expect(() => link([jeq(R1, 0, 'otu'), label('out'), exit()])).toThrow(
      /unknown label 'otu'.*known labels: out/,
    );
  });

  it('a duplicate label', () => {
    expect(() => link([label('a'), exit(), label('a'), exit()])).toThrow(LinkError);
  });

  it('a label at the very end', () => {
    expect(() => link([exit(), label('end')])).toThrow(/end of the program/);
  });

  it('a 16-bit overflow suggests gotol', () => {
    const body = Array.from({ length: 40000 }, () => mov64(R0, 0));
    expect(() => link([ja('far'), ...body, label('far'), exit()])).toThrow(/gotol/);
    expect(() => link([jeq(R1, 0, 'far'), ...body, label('far'), exit()])).toThrow(/gotol/);
  });
});

describe('decode errors report the byte offset', () => {
  it('an unknown opcode', () => {
    const e = (() => {
      try {
        decode(bytes('b7000000 01000000 ff000000 00000000'));
      } catch (err) {
        return err as DecodeError;
      }
    })();
    expect(e).toBeInstanceOf(DecodeError);
    expect(e!.offset).toBe(8);
    expect(e!.message).toMatch(/byte offset 8/);
  });

  it('a truncated lddw', () => {
    expect(() => decode(bytes('95000000 00000000 18010000 01000000'))).toThrow(/truncated/);
    try {
      decode(bytes('95000000 00000000 18010000 01000000'));
    } catch (e) {
      expect((e as DecodeError).offset).toBe(8);
    }
  });

  it('a length that is not a multiple of 8', () => {
    expect(() => decode(bytes('95000000 000000'))).toThrow(DecodeError);
  });

  it('a register beyond r10', () => {
    expect(() => decode(bytes('b70b0000 00000000'))).toThrow(/out of range/);
  });

  it('reserved fields that are not zero', () => {
    expect(() => decode(bytes('95000100 00000000'))).toThrow(DecodeError);
    expect(() => decode(bytes('18010000 01000000 00010000 00000000'))).toThrow(/second slot/);
  });
});

describe('assemble errors carry line and column', () => {
  const cases: [string, string, number, number, RegExp][] = [
    ['an unknown instruction', 'r0 = 1\nfrobnicate r1\nexit', 2, 1, /unknown instruction/],
    ['a register out of range', 'r11 = 1', 1, 1, /out of range/],
    ['an immediate too large', 'exit\n  r1 += 0x100000000', 2, 9, /out of range/],
    ['an offset too large', 'r0 = *(u64 *)(r1 + 40000)', 1, 18, /16 bits/],
    ['mixed register widths', 'r1 += w2', 1, 7, /widths differ/],
    ['an unknown label', 'goto nowhere\nexit', 1, 1, /unknown label 'nowhere'/],
    ['a bad stack store', '*(u64 *)(r10 - 4) = r1', 1, 1, /stack slot/],
    ['a stray token', 'exit now', 1, 6, /unexpected 'now'/],
    ['a bad character', 'r0 = @', 1, 6, /unexpected character/],
    ['an unknown helper', 'call frob', 1, 6, /neither a label nor a known helper/],
  ];
  it.each(cases)('%s', (_name, text, line, column, message) => {
    try {
      assemble(text);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AssembleError);
      const err = e as AssembleError;
      expect(err.message).toMatch(message);
      expect([err.line, err.column]).toEqual([line, column]);
      expect(err.message.startsWith(`${line}:${column}:`)).toBe(true);
    }
  });
});
