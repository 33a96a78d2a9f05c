import { describe, expect, it } from 'vitest';
import {
  AsmError,
  AssembleError,
  assemble,
  assembleProgram,
  call,
  checkBytecode,
  DecodeError,
  decode,
  disassemble,
  encode,
  encodeInto,
  exit,
  InvalidInstructionError,
  isElfObject,
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

describe('checkBytecode refuses exactly what decode refuses, with the same error', () => {
  const thrownBy = (f: () => unknown): DecodeError | undefined => {
    try {
      f();
    } catch (error) {
      return error as DecodeError;
    }
    return undefined;
  };
  it.each([
    ['valid code with an lddw', '18010000 01000000 00000000 02000000 95000000 00000000'],
    ['an unknown opcode', 'b7000000 01000000 ff000000 00000000'],
    ['a truncated lddw', '95000000 00000000 18010000 01000000'],
    ['a length that is not a multiple of 8', '95000000 000000'],
    ['a register beyond r10', 'b70b0000 00000000'],
    ['a reserved field that is not zero', '95000100 00000000'],
    ['an lddw second slot that is not zero', '18010000 01000000 00010000 00000000'],
  ])('%s', (_, hex) => {
    const decoded = thrownBy(() => decode(bytes(hex)));
    const checked = thrownBy(() => checkBytecode(bytes(hex)));
    expect(checked?.constructor).toBe(decoded?.constructor);
    expect(checked?.message).toBe(decoded?.message);
    expect(checked?.offset).toBe(decoded?.offset);
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

describe('arguments of the wrong type get typed errors that say what to pass', () => {
  it.each([
    ['encode(null)', () => encode(null as never), InvalidInstructionError, /array of instructions/],
    ['encode({})', () => encode({} as never), InvalidInstructionError, /or a Program, got Object/],
    ['encodeInto(.., [])', () => encodeInto([exit()], [] as never), InvalidInstructionError, /Uint8Array/],
    ['decode(string)', () => decode('abc' as never), DecodeError, /Uint8Array.*got string 'abc'/],
    ['decode(Buffer-less array)', () => decode([0x95] as never), DecodeError, /Uint8Array.*got Array/],
    ['assemble(number)', () => assemble(5 as never), AssembleError, /must be a string, got number 5/],
    ['disassemble({})', () => disassemble({} as never), InvalidInstructionError, /or a Program/],
    [
      'mov64 imm as string',
      () => mov64(R0, '1' as never),
      InvalidInstructionError,
      /integer number, got string '1'/,
    ],
    [
      'ldxdw off as bigint',
      () => ldxdw(R0, R1, 8n as never),
      InvalidInstructionError,
      /integer number, got bigint 8/,
    ],
    [
      'an unknown byte order',
      () => encode([exit()], { byteOrder: 'middle' as never }),
      AsmError,
      /'little' or 'big'/,
    ],
    [
      'an unknown byte order, decoding',
      () => decode(new Uint8Array(8), { byteOrder: 'BE' as never }),
      AsmError,
      /'little' or 'big'/,
    ],
  ] as const)('%s', (_name, f, type, message) => {
    expect(f).toThrow(type);
    expect(f).toThrow(message);
  });
});

describe('r10-relative stores of a width that does not fit the slot', () => {
  it.each([
    ['*(u64 *)(r10 - 4) = r1', /not a 8-byte stack slot/],
    ['*(u32 *)(r10 - 6) = r1', /not a 4-byte stack slot/],
    ['*(u16 *)(r10 + 0) = 1', /not a 2-byte stack slot/],
    ['*(u64 *)(r10 - 520) = r1', /from -512 to -8/],
    ['lock *(u64 *)(r10 - 12) += r1', /not a 8-byte stack slot/],
    ['*(u64 *)(r10 - 8) = w1', /64-bit store needs a 64-bit register/],
  ])('%s', (text, message) => {
    expect(() => assemble(text)).toThrow(AssembleError);
    expect(() => assemble(text)).toThrow(message);
  });
});

it('decode names an unknown opcode and its byte offset once', () => {
  const e = (() => {
    try {
      decode(bytes('95000000 00000000 ff000000 00000000'));
    } catch (err) {
      return err as DecodeError;
    }
  })();
  expect(e).toBeInstanceOf(DecodeError);
  expect(e?.offset).toBe(8);
  expect(e?.message).toBe('at byte offset 8 (instruction 1): opcode 0xff is not an ALU operation');
});

describe('inputs that are not what they seem', () => {
  it('refuses an ELF object file where instructions belong', () => {
    const elf = Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0);
    expect(isElfObject(elf)).toBe(true);
    expect(() => decode(elf)).toThrow(/ELF object file, not raw instructions: load it with Collection.load/);
  });

  it('refuses to assemble a map named in text into bytes, at its line', () => {
    expect(() => assemble('r0 = 0\nr1 = counts ll\nexit\n')).toThrow(
      /^2:1: instruction 1 refers to map 'counts', which nothing resolved/,
    );
    expect(assembleProgram('r1 = counts ll\nexit\n').references()).toHaveLength(1);
  });
});
