/**
 * Differential property test against LLVM 16 on a large random corpus: a few thousand random
 * valid instructions (test/arbitrary.ts) that LLVM 16 knows, disassembled by `llvm-objdump-16 -d
 * --no-show-raw-insn` in one invocation (and once more with `--mattr=+alu32`) and by us, compared
 * line by line; and our text assembled by `llvm-mc-16`, little- and big-endian, compared byte for
 * byte with our encoding. The seed is random and printed on failure (set ASM_SEED to replay).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arbitraryInstruction } from '../test/arbitrary.ts';
import {
  hex,
  llvm16Parses,
  llvm16Prints,
  llvmDisassembly,
  llvmEncodings,
  normalize,
  requireTools,
  Scratch,
} from '../test/llvm.ts';
import {
  assemble,
  type DisassembleOptions,
  disassemble,
  encode,
  formatInstruction,
  type Instruction,
  slots,
} from './index.ts';

const CORPUS = 3000;
const seed = Number(process.env.ASM_SEED ?? Math.floor(Math.random() * 0x7fffffff));
const corpus = fc.sample(arbitraryInstruction, { numRuns: CORPUS, seed });

let scratch: Scratch;
beforeAll(() => {
  requireTools();
  scratch = new Scratch();
});
afterAll(() => scratch?.dispose());

/** Mismatches between our text and LLVM's, as readable lines (empty when they agree). */
function mismatches(insns: readonly Instruction[], options: DisassembleOptions): string[] {
  const llvm = llvmDisassembly(scratch, encode(insns), options.alu32);
  const out: string[] = [];
  let slot = 0;
  for (const insn of insns) {
    const ours = normalize(formatInstruction(insn, options));
    if (ours !== llvm.get(slot)) out.push(`${hex(encode([insn]))}: ours '${ours}', llvm '${llvm.get(slot)}'`);
    slot += slots(insn);
  }
  return out;
}

describe(`a random corpus of ${CORPUS} instructions (ASM_SEED=${seed})`, () => {
  it.each([
    [false, 'roundtrip'],
    [true, 'roundtrip'],
    [false, 'llvm-objdump'],
    [true, 'llvm-objdump'],
  ] as const)('disassembles as llvm-objdump-16 does, alu32 %s, syntax %s', (alu32, syntax) => {
    const insns = corpus.filter((insn) => llvm16Prints(insn, alu32, syntax));
    expect(insns.length).toBeGreaterThan(CORPUS / 2);
    expect(mismatches(insns, { alu32, syntax }).slice(0, 20)).toEqual([]);
  });

  it.each(['little', 'big'] as const)(
    'our text assembles with llvm-mc-16 to our bytes, %s-endian',
    (byteOrder) => {
      const insns = corpus.filter(llvm16Parses);
      expect(insns.length).toBeGreaterThan(CORPUS / 2);
      const lines = insns.map((insn) => formatInstruction(insn));
      const llvm = llvmEncodings(scratch, lines, byteOrder === 'big');
      expect(llvm).toHaveLength(insns.length);
      const bad = insns
        .map((insn, i) => [lines[i], hex(encode([insn], { byteOrder })), llvm[i]] as const)
        .filter(([, ours, theirs]) => ours !== theirs);
      expect(bad.slice(0, 20)).toEqual([]);
    },
  );

  it('every instruction reads back from our text, in both flavours', () => {
    const bytes = encode(corpus);
    expect(hex(assemble(disassemble(corpus)))).toBe(hex(bytes));
    expect(hex(assemble(disassemble(corpus, { alu32: true })))).toBe(hex(bytes));
  });
});
