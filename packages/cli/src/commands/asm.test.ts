import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain as ebpf } from '../testing.ts';

const work = mkdtempSync(join(tmpdir(), 'ebpf-cli-asm-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('ebpf disasm and run on files that are not bytecode', () => {
  it('says an ELF object is not raw instructions, exit 2', async () => {
    const obj = join(work, 'prog.o');
    writeFileSync(obj, Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0));
    for (const command of ['disasm', 'run']) {
      const r = await ebpf(command, obj);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`${obj}: this is an ELF object file, not raw instructions`);
    }
  });

  it('prints a BPF-to-BPF call as llvm-objdump does with --llvm, and reassemblable by default', async () => {
    const bin = join(work, 'call.bin');
    writeFileSync(
      bin,
      Buffer.from('85100000010000009500000000000000b7000000000000009500000000000000', 'hex'),
    );
    expect((await ebpf('disasm', bin)).out).toMatch(/^call \+0x1$/m);
    expect((await ebpf('disasm', bin, '--llvm')).out).toMatch(/^call 0x1$/m);
  });

  it('refuses to assemble a map named in text into bytecode', async () => {
    const src = join(work, 'map.s');
    writeFileSync(src, 'r1 = counts ll\nr0 = 0\nexit\n');
    const r = await ebpf('asm', src, '--hex');
    expect(r.code).toBe(4);
    expect(r.err).toContain(`${src}:1:1: instruction 0 refers to map 'counts', which nothing resolved`);
  });
});
