/**
 * Differential tests against LLVM 16 (`llvm-mc-16`, `llvm-objdump-16`, Debian's llvm-16; CI
 * installs it through tools/setup.sh). Every row of test/forms.ts that LLVM 16 can assemble is
 * assembled by both and compared byte for byte; every row it can print is disassembled by both
 * and compared as text (whitespace and `<...>` jump annotations aside). Missing LLVM is a
 * failure, not a skip.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forms } from '../test/forms.ts';
import { assemble, disassemble, encode } from './index.ts';

const MC = 'llvm-mc-16';
const OBJDUMP = 'llvm-objdump-16';
const OBJCOPY = 'llvm-objcopy-16';

function haveTool(tool: string): boolean {
  try {
    execFileSync(tool, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const normalize = (s: string) =>
  s
    .replace(/\s+<[^<>]*>\s*$/, '')
    .replace(/\s+/g, ' ')
    .trim();

let dir: string;

beforeAll(() => {
  for (const tool of [MC, OBJDUMP, OBJCOPY]) {
    if (!haveTool(tool)) {
      throw new Error(
        `${tool} is not installed: the LLVM differential tests need Debian's llvm-16 (run tools/setup.sh)`,
      );
    }
  }
  dir = mkdtempSync(join(tmpdir(), 'ebpf-asm-llvm-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** llvm-mc's encodings, one per input line (each line one instruction). */
function llvmEncodings(lines: readonly string[]): string[] {
  const file = join(dir, 'enc.s');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const out = execFileSync(MC, ['-triple', 'bpf', '-show-encoding', file], { encoding: 'utf8' });
  return [...out.matchAll(/# encoding: \[([^\]]*)\]/g)].map((m) =>
    m[1]!
      .split(',')
      .map((b) => Number(b.trim()).toString(16).padStart(2, '0'))
      .join(''),
  );
}

/** llvm-objdump's text for bytes, keyed by slot index. */
function llvmDisassembly(bytes: Uint8Array): Map<number, string> {
  const src = join(dir, 'dis.s');
  const obj = join(dir, 'dis.o');
  writeFileSync(src, `.text\n${Array.from(bytes, (b) => `.byte ${b}`).join('\n')}\n`);
  execFileSync(MC, ['-triple', 'bpf', '-filetype=obj', src, '-o', obj]);
  const out = execFileSync(OBJDUMP, ['-d', '--no-show-raw-insn', '--mattr=+alu32', obj], {
    encoding: 'utf8',
  });
  const lines = new Map<number, string>();
  for (const m of out.matchAll(/^\s*(\d+):\t(.*)$/gm)) lines.set(Number(m[1]), normalize(m[2]!));
  return lines;
}

/** .text of an object llvm-mc assembles from `text`. */
function llvmObjectText(text: string): Uint8Array {
  const src = join(dir, 'prog.s');
  const obj = join(dir, 'prog.o');
  const bin = join(dir, 'prog.bin');
  writeFileSync(src, text);
  execFileSync(MC, ['-triple', 'bpf', '-filetype=obj', src, '-o', obj]);
  execFileSync(OBJCOPY, ['-O', 'binary', '--only-section=.text', obj, bin]);
  return new Uint8Array(readFileSync(bin));
}

const assembled = forms.filter((f) => f.llvm === 'both');
const printed = forms.filter((f) => f.llvm !== 'none');

describe('llvm-mc-16 assembles every form to the same bytes', () => {
  let llvm: string[] = [];
  beforeAll(() => {
    llvm = llvmEncodings(assembled.map((f) => f.text));
  });
  it('encodes every row', () => expect(llvm).toHaveLength(assembled.length));
  it.each(assembled.map((f, i) => [f.name, f, i] as const))('%s', (_name, form, i) => {
    expect(hex(assemble(form.text))).toBe(llvm[i]);
    expect(hex(encode([form.build()]))).toBe(llvm[i]);
  });
});

describe('llvm-objdump-16 prints every form as we do', () => {
  let llvm = new Map<number, string>();
  const slotOf: number[] = [];
  beforeAll(() => {
    const insns = printed.map((f) => f.build());
    let slot = 0;
    for (const insn of insns) {
      slotOf.push(slot);
      slot += insn.op === 0x18 ? 2 : 1;
    }
    llvm = llvmDisassembly(encode(insns));
  });
  it.each(printed.map((f, i) => [f.name, f, i] as const))('%s', (_name, form, i) => {
    const ours = normalize(disassemble(encode([form.build()])));
    expect(ours).toBe(llvm.get(slotOf[i]!));
  });
});

describe('a program clang compiles', () => {
  const CLANG = 'clang';
  let text: Uint8Array;
  let objdump: string;
  beforeAll(() => {
    if (!haveTool(CLANG)) throw new Error('clang is not installed (run tools/setup.sh)');
    const src = new URL('../test/fixtures/sample.c', import.meta.url).pathname;
    const obj = join(dir, 'sample.o');
    const bin = join(dir, 'sample.bin');
    execFileSync(CLANG, ['-target', 'bpf', '-O2', '-mcpu=v3', '-c', src, '-o', obj]);
    execFileSync(OBJCOPY, ['-O', 'binary', '--only-section=xdp', obj, bin]);
    text = new Uint8Array(readFileSync(bin));
    objdump = execFileSync(OBJDUMP, ['-d', '--mattr=+alu32', '--section=xdp', obj], { encoding: 'utf8' });
  });

  it('assembles llvm-objdump output (addresses, raw bytes, labels) back to the same bytes', () => {
    expect(text.length).toBeGreaterThan(100);
    expect(hex(assemble(objdump))).toBe(hex(text));
  });

  it('disassembles the bytes as llvm-objdump does', () => {
    const llvm = new Map<number, string>();
    for (const m of objdump.matchAll(/^\s*(\d+):\t[0-9a-f]{2}(?: [0-9a-f]{2}){7}\t(.*)$/gm))
      llvm.set(Number(m[1]), normalize(m[2]!));
    const ours = disassemble(text, { offsets: true });
    let lines = 0;
    for (const m of ours.matchAll(/^\s*(\d+):\t(.*)$/gm)) {
      expect(normalize(m[2]!)).toBe(llvm.get(Number(m[1])));
      lines++;
    }
    expect(lines).toBe(llvm.size);
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
    expect(hex(assemble(program))).toBe(hex(llvmObjectText(program)));
  });

  it('disassembles it as llvm-objdump does, and reassembles the text', () => {
    const bytes = assemble(program);
    const llvm = llvmDisassembly(bytes);
    const ours = disassemble(bytes, { offsets: true });
    for (const m of ours.matchAll(/^\s*(\d+):\t(.*)$/gm))
      expect(normalize(m[2]!)).toBe(llvm.get(Number(m[1])));
    expect(hex(assemble(ours))).toBe(hex(bytes));
    expect(hex(assemble(disassemble(bytes, { labels: true, rawBytes: true, offsets: true })))).toBe(
      hex(bytes),
    );
  });
});
