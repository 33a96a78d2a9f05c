import fc from 'fast-check';
import type { Instruction } from '../src/index.ts';

const s32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const s16 = fc.integer({ min: -0x8000, max: 0x7fff });
const reg = fc.integer({ min: 0, max: 10 });
const writable = fc.integer({ min: 0, max: 9 });
const sizes = [0x00, 0x08, 0x10, 0x18];
const widthOf = (size: number) => ({ 0: 4, 8: 2, 16: 1, 24: 8 })[size as 0 | 8 | 16 | 24];

/** A base register and offset that the assembler accepts (r10 only inside the stack, aligned). */
const memRef = (size: number) =>
  fc.oneof(
    fc.record({ base: writable, off: s16 }),
    fc.integer({ min: 1, max: 512 / widthOf(size) }).map((k) => ({ base: 10, off: -k * widthOf(size) })),
  );

const insn = (op: number, dst: number, src: number, off: number, imm: number | bigint): Instruction => ({
  op,
  dst,
  src,
  off,
  imm,
});

const aluCodes = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0];

const alu = fc
  .record({
    cls: fc.constantFrom(0x04, 0x07),
    code: fc.constantFrom(...aluCodes),
    x: fc.boolean(),
    dst: writable,
    src: reg,
    imm: s32,
    variant: fc.nat(3),
  })
  .map(({ cls, code, x, dst, src, imm, variant }) => {
    let off = 0;
    if (code === 0x30 || code === 0x90) off = variant & 1;
    if (code === 0xb0 && x) off = [0, 8, 16, cls === 0x07 ? 32 : 0][variant]!;
    return x ? insn(cls | code | 0x08, dst, src, off, 0) : insn(cls | code, dst, 0, off, imm);
  });

const negEnd = fc.oneof(
  fc
    .record({ cls: fc.constantFrom(0x04, 0x07), dst: writable })
    .map(({ cls, dst }) => insn(cls | 0x80, dst, 0, 0, 0)),
  fc
    .record({ op: fc.constantFrom(0xd4, 0xdc, 0xd7), dst: writable, bits: fc.constantFrom(16, 32, 64) })
    .map(({ op, dst, bits }) => insn(op, dst, 0, 0, bits)),
);

const jmpCodes = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
const jumps = fc.oneof(
  fc
    .record({
      cls: fc.constantFrom(0x05, 0x06),
      code: fc.constantFrom(...jmpCodes),
      x: fc.boolean(),
      dst: reg,
      src: reg,
      off: s16,
      imm: s32,
    })
    .map(({ cls, code, x, dst, src, off, imm }) =>
      x ? insn(cls | code | 0x08, dst, src, off, 0) : insn(cls | code, dst, 0, off, imm),
    ),
  s16.map((off) => insn(0x05, 0, 0, off, 0)),
  s16.map((off) => insn(0xe5, 0, 0, off, 0)),
  s32.map((imm) => insn(0x06, 0, 0, 0, imm)),
  fc.integer({ min: 0, max: 0x7fffffff }).map((imm) => insn(0x85, 0, 0, 0, imm)),
  s32.map((imm) => insn(0x85, 0, 1, 0, imm)),
  fc.record({ imm: s32, off: s16 }).map(({ imm, off }) => insn(0x85, 0, 2, off, imm)),
  fc.constant(insn(0x95, 0, 0, 0, 0)),
);

const memory = fc.oneof(
  fc
    .record({ size: fc.constantFrom(...sizes), dst: writable, signed: fc.boolean() })
    .chain(({ size, dst, signed }) =>
      memRef(size).map(({ base, off }) =>
        signed && size !== 0x18 ? insn(0x81 | size, dst, base, off, 0) : insn(0x61 | size, dst, base, off, 0),
      ),
    ),
  fc
    .record({ size: fc.constantFrom(...sizes), src: reg, imm: s32, isImm: fc.boolean() })
    .chain(({ size, src, imm, isImm }) =>
      memRef(size).map(({ base, off }) =>
        isImm ? insn(0x62 | size, base, 0, off, imm) : insn(0x63 | size, base, src, off, 0),
      ),
    ),
  fc
    .record({ size: fc.constantFrom(0x00, 0x08, 0x10), ind: fc.boolean(), src: reg, imm: s32 })
    .map(({ size, ind, src, imm }) =>
      ind ? insn(0x40 | size, 0, src, 0, imm) : insn(0x20 | size, 0, 0, 0, imm),
    ),
);

const atomicOps = [0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1];
const atomics = fc.oneof(
  fc
    .record({ size: fc.constantFrom(0x00, 0x18), op: fc.constantFrom(...atomicOps), src: writable })
    .chain(({ size, op, src }) => memRef(size).map(({ base, off }) => insn(0xc3 | size, base, src, off, op))),
  fc
    .record({ size: fc.constantFrom(...sizes), dst: writable })
    .chain(({ size, dst }) => memRef(size).map(({ base, off }) => insn(0xc3 | size, dst, base, off, 0x100))),
  fc
    .record({ size: fc.constantFrom(...sizes), src: reg })
    .chain(({ size, src }) => memRef(size).map(({ base, off }) => insn(0xc3 | size, base, src, off, 0x110))),
);

const lddw = fc.oneof(
  fc
    .record({ dst: writable, imm: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }) })
    .map(({ dst, imm }) => insn(0x18, dst, 0, 0, imm)),
  fc
    .record({ dst: writable, src: fc.integer({ min: 1, max: 6 }), lo: s32, hi: s32 })
    .map(({ dst, src, lo, hi }) => insn(0x18, dst, src, 0, (BigInt(hi) << 32n) | BigInt(lo >>> 0))),
);

/** Any valid, canonical instruction (no symbolic fields). */
export const arbitraryInstruction: fc.Arbitrary<Instruction> = fc.oneof(
  alu,
  negEnd,
  jumps,
  memory,
  atomics,
  lddw,
);
