/**
 * Drives Debian's LLVM 16 (`llvm-mc-16`, `llvm-objdump-16`, `llvm-objcopy-16`) for the
 * differential tests, and says which instructions LLVM 16 knows: it predates cpu v4 and prints
 * some forms in ways that cannot be read back, so those are proven against the kernel instead.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Instruction } from '../src/index.ts';

export const MC = 'llvm-mc-16';
export const OBJDUMP = 'llvm-objdump-16';
export const OBJCOPY = 'llvm-objcopy-16';

/** Throws unless every tool runs: missing LLVM is a failure, not a skip. */
export function requireTools(tools: readonly string[] = [MC, OBJDUMP, OBJCOPY]): void {
  for (const tool of tools) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is not installed: the LLVM differential tests need it (run tools/setup.sh)`);
    }
  }
}

/** Lowercase hex of bytes. */
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** One instruction's text with whitespace collapsed and a trailing `<...>` annotation dropped. */
export const normalize = (s: string): string =>
  s
    .replace(/\s+<[^<>]*>\s*$/, '')
    .replace(/\s+/g, ' ')
    .trim();

/** A scratch directory for LLVM's input and output files. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'ebpf-asm-llvm-'));

  path(name: string): string {
    return join(this.dir, name);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** llvm-mc's encodings (hex), one per instruction of `lines`, for the little- or big-endian triple. */
export function llvmEncodings(scratch: Scratch, lines: readonly string[], bigEndian = false): string[] {
  const file = scratch.path('enc.s');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const triple = bigEndian ? 'bpfeb' : 'bpfel';
  const out = execFileSync(MC, ['-triple', triple, '-show-encoding', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  return [...out.matchAll(/# encoding: \[([^\]]*)\]/g)].map((m) =>
    m[1]!
      .split(',')
      .map((b) => Number(b.trim()).toString(16).padStart(2, '0'))
      .join(''),
  );
}

/**
 * `llvm-objdump -d --no-show-raw-insn` (plus `--mattr=+alu32` when asked) of little-endian
 * instruction bytes, one invocation: normalized text keyed by slot index.
 */
export function llvmDisassembly(scratch: Scratch, bytes: Uint8Array, alu32 = false): Map<number, string> {
  const src = scratch.path('dis.s');
  const obj = scratch.path('dis.o');
  writeFileSync(src, `.text\n${Array.from(bytes, (b) => `.byte ${b}`).join('\n')}\n`);
  execFileSync(MC, ['-triple', 'bpfel', '-filetype=obj', src, '-o', obj]);
  const args = ['-d', '--no-show-raw-insn', ...(alu32 ? ['--mattr=+alu32'] : []), obj];
  const out = execFileSync(OBJDUMP, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  const lines = new Map<number, string>();
  for (const m of out.matchAll(/^\s*(\d+):\t(.*)$/gm)) lines.set(Number(m[1]), normalize(m[2]!));
  return lines;
}

/** `.text` of the object llvm-mc assembles from `text`. */
export function llvmObjectText(scratch: Scratch, text: string): Uint8Array {
  const src = scratch.path('prog.s');
  const obj = scratch.path('prog.o');
  const bin = scratch.path('prog.bin');
  writeFileSync(src, text);
  execFileSync(MC, ['-triple', 'bpfel', '-filetype=obj', src, '-o', obj]);
  execFileSync(OBJCOPY, ['-O', 'binary', '--only-section=.text', obj, bin]);
  return new Uint8Array(readFileSync(bin));
}

const cls = (op: number) => op & 0x07;
const mode = (op: number) => op & 0xe0;
const size = (op: number) => op & 0x18;

/** True for what LLVM 16 cannot print at all, or prints so that it reads back as something else. */
function beyondLlvm16(insn: Instruction): boolean {
  const { op, src, off } = insn;
  const c = cls(op);
  if (c === 0x04 || c === 0x07) {
    const code = op & 0xf0;
    if ((code === 0x30 || code === 0x90) && off !== 0) return true; // sdiv, smod
    if (code === 0xb0 && (op & 0x08) !== 0 && off !== 0) return true; // movsx
    return op === 0xd7; // bswap
  }
  if (c === 0x05 || c === 0x06) {
    if (op === 0x06 || op === 0xe5) return true; // gotol, may_goto
    if ((op & 0xf0) === 0x40) return true; // jset: LLVM 16 has none
    return false;
  }
  if (c === 0x00) return op !== 0x18 && mode(op) === 0x40 && insn.imm !== 0; // ld_ind with an offset
  if (c === 0x01) return mode(op) === 0x80; // ldsx
  if (c === 0x02) return true; // store of an immediate
  if (c === 0x03 && mode(op) === 0xc0) return insn.imm === 0x100 || insn.imm === 0x110; // acquire/release
  return false;
}

/**
 * True when `llvm-objdump-16 -d` (with `--mattr=+alu32` when `alu32`) prints `insn` as
 * `disassemble` does in `syntax`. Without alu32, LLVM 16 knows no 32-bit atomic but `lock +=`.
 */
export function llvm16Prints(
  insn: Instruction,
  alu32: boolean,
  syntax: 'roundtrip' | 'llvm-objdump' = 'roundtrip',
): boolean {
  if (beyondLlvm16(insn)) return false;
  // What only the llvm-objdump syntax prints as LLVM does: a forward BPF-to-BPF call (LLVM's
  // `call 0x3`, ours `call +0x3`), a kfunc call (LLVM prints a helper call) and ld_pseudo's
  // second immediate (LLVM drops it).
  if (syntax === 'roundtrip') {
    if (insn.op === 0x85 && insn.src === 1 && (insn.imm as number) >= 0) return false;
    if (insn.op === 0x85 && insn.src === 2) return false;
    if (insn.op === 0x18 && insn.src !== 0 && BigInt.asIntN(32, (insn.imm as bigint) >> 32n) !== 0n)
      return false;
  }
  const narrowAtomic = cls(insn.op) === 0x03 && mode(insn.op) === 0xc0 && size(insn.op) !== 0x18;
  return alu32 || !narrowAtomic || insn.imm === 0;
}

/**
 * True when `llvm-mc-16` reads what `disassemble` prints for `insn`: it cannot parse fetch
 * atomics, `ld_pseudo` or a BPF-to-BPF `call -0x3` (it reads the number as a helper id).
 */
export function llvm16Parses(insn: Instruction): boolean {
  if (beyondLlvm16(insn) || (insn.op === 0x85 && insn.src === 2)) return false;
  if (insn.op === 0x18 || insn.op === 0x85) return insn.src === 0;
  const atomic = cls(insn.op) === 0x03 && mode(insn.op) === 0xc0;
  return !atomic || ((insn.imm as number) & 0x01) === 0;
}
