/**
 * Differential tests against LLVM 16 (`llvm-mc-16`, `llvm-objdump-16`, Debian's llvm-16; CI
 * installs it through tools/setup.sh). Every row of test/forms.ts that LLVM 16 can assemble is
 * assembled by both, little- and big-endian, and compared byte for byte; every row it can print
 * is disassembled by both, with and without `--mattr=+alu32`, and compared as text (whitespace and
 * `<...>` jump annotations aside). Missing LLVM is a failure, not a skip.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forms } from '../test/forms.ts';
import {
  hex,
  llvm16Prints,
  llvmDisassembly,
  llvmEncodings,
  llvmObjectText,
  normalize,
  OBJCOPY,
  OBJDUMP,
  requireTools,
  Scratch,
} from '../test/llvm.ts';
import { assemble, disassemble, encode, slots } from './index.ts';

let scratch: Scratch;

beforeAll(() => {
  requireTools();
  scratch = new Scratch();
});

afterAll(() => scratch?.dispose());

const assembled = forms.filter((f) => f.llvm === 'both');

describe.each([
  ['little', false],
  ['big', true],
] as const)('llvm-mc-16 assembles every form to the same bytes, %s-endian', (byteOrder, bigEndian) => {
  let llvm: string[] = [];
  beforeAll(() => {
    llvm = llvmEncodings(
      scratch,
      assembled.map((f) => f.text),
      bigEndian,
    );
  });
  it('encodes every row', () => expect(llvm).toHaveLength(assembled.length));
  it.each(assembled.map((f, i) => [f.name, f, i] as const))('%s', (_name, form, i) => {
    expect(hex(assemble(form.text, { byteOrder }))).toBe(llvm[i]);
    expect(hex(assemble(form.alu32Text, { byteOrder }))).toBe(llvm[i]);
    expect(hex(encode([form.build()], { byteOrder }))).toBe(llvm[i]);
  });
});

describe.each([
  ['llvm-objdump-16 -d', false],
  ['llvm-objdump-16 -d --mattr=+alu32', true],
] as const)('%s prints every form as we do', (_tool, alu32) => {
  const printed = forms.filter((f) => f.llvm !== 'none' && llvm16Prints(f.build(), alu32));
  let llvm = new Map<number, string>();
  const slotOf: number[] = [];
  beforeAll(() => {
    const insns = printed.map((f) => f.build());
    let slot = 0;
    for (const insn of insns) {
      slotOf.push(slot);
      slot += slots(insn);
    }
    llvm = llvmDisassembly(scratch, encode(insns), alu32);
  });
  it.each(printed.map((f, i) => [f.name, f, i] as const))('%s', (_name, form, i) => {
    const ours = normalize(disassemble(encode([form.build()]), { alu32 }));
    expect(ours).toBe(normalize(alu32 ? form.alu32Text : form.text));
    expect(ours).toBe(llvm.get(slotOf[i]!));
  });
});

/** Our text of each instruction of `bytes` next to llvm-objdump's, by slot. */
function compareWithObjdump(bytes: Uint8Array, objdump: Map<number, string>, alu32: boolean): void {
  const ours = disassemble(bytes, { offsets: true, alu32 });
  let lines = 0;
  for (const m of ours.matchAll(/^\s*(\d+):\t(.*)$/gm)) {
    expect(normalize(m[2]!), `slot ${m[1]}`).toBe(objdump.get(Number(m[1])));
    lines++;
  }
  expect(lines).toBe(objdump.size);
}

describe('a program clang compiles', () => {
  const CLANG = 'clang';
  let text: Uint8Array;
  let obj: string;
  const objdump = (...args: string[]) =>
    execFileSync(OBJDUMP, ['-d', ...args, '--section=xdp', obj], { encoding: 'utf8' });
  const listing = (out: string) => {
    const llvm = new Map<number, string>();
    for (const m of out.matchAll(/^\s*(\d+):\t(?:[0-9a-f]{2}(?: [0-9a-f]{2}){7}\t)?(.*)$/gm))
      llvm.set(Number(m[1]), normalize(m[2]!));
    return llvm;
  };
  beforeAll(() => {
    requireTools([CLANG]);
    const src = new URL('../test/fixtures/sample.c', import.meta.url).pathname;
    obj = scratch.path('sample.o');
    const bin = scratch.path('sample.bin');
    execFileSync(CLANG, ['-target', 'bpf', '-O2', '-mcpu=v3', '-c', src, '-o', obj]);
    execFileSync(OBJCOPY, ['-O', 'binary', '--only-section=xdp', obj, bin]);
    text = new Uint8Array(readFileSync(bin));
  });

  it('assembles llvm-objdump output (addresses, raw bytes, labels) back to the same bytes', () => {
    expect(text.length).toBeGreaterThan(100);
    expect(hex(assemble(objdump()))).toBe(hex(text));
    expect(hex(assemble(objdump('--mattr=+alu32')))).toBe(hex(text));
  });

  it('disassembles the bytes as llvm-objdump does', () => {
    compareWithObjdump(text, listing(objdump('--no-show-raw-insn')), false);
    compareWithObjdump(text, listing(objdump('--no-show-raw-insn', '--mattr=+alu32')), true);
  });
});

describe('whole programs', () => {
  const program = `
    # count down from 10, summing into r0
    r0 = 0
    r1 = 10
  loop:
    r0 += r1
    r1 += -1
    if r1 != 0 goto loop
    r2 = 0x1122334455667788 ll
    *(u64 *)(r10 - 8) = r2
    w3 = *(u32 *)(r10 - 8)
    if w3 > 0x55667700 goto out
    r0 = -r0
  out:
    exit
  `;

  it('assembles a program with labels to the bytes llvm-mc emits', () => {
    expect(hex(assemble(program))).toBe(hex(llvmObjectText(scratch, program)));
  });

  it('disassembles it as llvm-objdump does, and reassembles the text', () => {
    const bytes = assemble(program);
    compareWithObjdump(bytes, llvmDisassembly(scratch, bytes), false);
    compareWithObjdump(bytes, llvmDisassembly(scratch, bytes, true), true);
    const ours = disassemble(bytes);
    expect(hex(assemble(ours))).toBe(hex(bytes));
    expect(hex(assemble(disassemble(bytes, { labels: true, rawBytes: true, offsets: true })))).toBe(
      hex(bytes),
    );
  });
});

describe('a program with BPF-to-BPF calls clang compiles', () => {
  it("prints llvm-objdump-16's exact text with syntax 'llvm-objdump', and its own by default", () => {
    requireTools(['clang']);
    const src = new URL('../test/fixtures/calls.c', import.meta.url).pathname;
    const obj = scratch.path('calls.o');
    const bin = scratch.path('calls.bin');
    execFileSync('clang', ['-target', 'bpf', '-O2', '-mcpu=v3', '-c', src, '-o', obj]);
    execFileSync(OBJCOPY, ['-O', 'binary', '--only-section=xdp', obj, bin]);
    const text = new Uint8Array(readFileSync(bin));
    const out = execFileSync(OBJDUMP, ['-d', '--no-show-raw-insn', '--section=xdp', obj], {
      encoding: 'utf8',
    });
    const theirs = [...out.matchAll(/^\s*(\d+):\t(.*)$/gm)].map((m) => `${m[1]}:\t${m[2]}`);
    const ours = (syntax: 'roundtrip' | 'llvm-objdump') =>
      disassemble(text, { offsets: true, syntax })
        .trimEnd()
        .split('\n')
        .map((line) => line.trimStart());
    expect(theirs.some((line) => /\tcall 0x\d/.test(line))).toBe(true);
    expect(ours('llvm-objdump')).toEqual(theirs);
    expect(ours('roundtrip')).not.toEqual(theirs);
    expect(ours('roundtrip').join('\n')).toMatch(/call \+0x5/);
  });
});
