/**
 * The C printer against bpftool (Debian's 7.1) on this machine's BTF: vmlinux, the modules, and
 * clang-16 objects of either byte order; and the headers it writes compile for the BPF target.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { requireTools, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, describe, expect, it } from 'vitest';
import { Btf, BtfBuilder } from '../index.ts';
import { kernelBtf, moduleBtf } from '../node.ts';

const CLANG = 'clang-16';
const OBJCOPY = 'llvm-objcopy-16';
const SYSFS = '/sys/kernel/btf';
requireTools([CLANG, OBJCOPY, 'bpftool']);

/** bpftool's C dump of `file` (split on `base` when given). */
const bpftool = (file: string, base?: string): string =>
  execFileSync('bpftool', [...(base ? ['-B', base] : []), 'btf', 'dump', 'file', file, 'format', 'c'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });

/** The first line where `ours` and `theirs` differ, with both versions; undefined when equal. */
function firstDifference(ours: string, theirs: string): string | undefined {
  if (ours === theirs) return undefined;
  const a = ours.split('\n');
  const b = theirs.split('\n');
  const at = a.findIndex((line, i) => line !== b[i]);
  const line = at < 0 ? a.length : at;
  return `line ${line + 1}: ours ${JSON.stringify(a[line])}, bpftool ${JSON.stringify(b[line])}`;
}

const scratch = new Scratch();
afterAll(() => scratch.dispose());

/** Compiles C `source` that includes the header `header` for the BPF target; throws clang's errors. */
function compileWith(header: string, source: string): void {
  writeFileSync(scratch.path('vmlinux.h'), header);
  const c = scratch.path('use.c');
  writeFileSync(c, `#include "vmlinux.h"\n${source}`);
  execFileSync(CLANG, ['-O2', '-g', '-target', 'bpf', '-Werror', '-c', c, '-o', scratch.path('use.o')], {
    stdio: 'pipe',
  });
}

describe('toC on vmlinux', () => {
  const vmlinux = kernelBtf();
  const header = vmlinux.toC();

  it('writes the same header as bpftool btf dump file /sys/kernel/btf/vmlinux format c, line by line', () => {
    expect(firstDifference(header, bpftool(`${SYSFS}/vmlinux`))).toBeUndefined();
  });

  it('writes a header that clang compiles for the BPF target', () => {
    compileWith(header, 'int pid_of(struct task_struct *t) { return t->pid; }\n');
  });

  it('writes struct task_struct alone with what it needs, in an order that compiles', () => {
    const task = vmlinux.typeByName('task_struct', 'struct')!;
    const partial = vmlinux.toC({ types: [task] });
    expect(partial).toContain('struct task_struct {');
    expect(partial.length).toBeLessThan(header.length);
    compileWith(partial, 'int pid_of(struct task_struct *t) { return t->pid + t->tgid; }\n');
  });
});

describe('toC on split BTF (what a module carries)', () => {
  // This kernel may have no modules (CONFIG_MODULES off): split BTF of the same shape is built on
  // vmlinux here, and every module BTF the machine does have is compared too.
  const modules = readdirSync(SYSFS).filter((name) => name !== 'vmlinux');
  const scratch = new Scratch();
  afterAll(() => scratch.dispose());

  it('writes the same header as bpftool for split BTF on vmlinux', () => {
    const vmlinux = kernelBtf();
    const task = vmlinux.typeByName('task_struct', 'struct')!;
    const int = vmlinux.typeByName('int', 'int')!;
    const b = new BtfBuilder({ base: vmlinux });
    const ptr = b.add({ kind: 'ptr', name: '', target: task.id });
    b.add({
      kind: 'struct',
      name: 'module_probe',
      size: 16,
      members: [
        { name: 'task', type: ptr, bitOffset: 0, bitfieldSize: 0 },
        { name: 'count', type: int.id, bitOffset: 64, bitfieldSize: 0 },
      ],
    });
    const file = scratch.path('split.btf');
    writeFileSync(file, b.marshal());
    const ours = Btf.parse(readFileSync(file), { base: vmlinux }).toC();
    expect(firstDifference(ours, bpftool(file, `${SYSFS}/vmlinux`))).toBeUndefined();
    expect(ours).toContain('struct module_probe {');
  });

  it.each(modules)('writes the same header as bpftool for module %s', (name) => {
    expect(
      firstDifference(moduleBtf(name).toC(), bpftool(`${SYSFS}/${name}`, `${SYSFS}/vmlinux`)),
    ).toBeUndefined();
  });
});

describe('toC on a clang-16 object', () => {
  const source = new URL('./testdata/layouts.c', import.meta.url).pathname;
  for (const target of ['bpfel', 'bpfeb'] as const) {
    it(`writes the same header as bpftool for the BTF of testdata/layouts.c (${target})`, () => {
      const object = scratch.path(`layouts.${target}.o`);
      const raw = scratch.path(`layouts.${target}.btf`);
      execFileSync(CLANG, ['-O2', '-g', '-target', target, '-c', source, '-o', object]);
      execFileSync(OBJCOPY, [`--dump-section=.BTF=${raw}`, object]);
      const btf = Btf.parse(readFileSync(raw));
      expect(btf.littleEndian).toBe(target === 'bpfel');
      const header = btf.toC();
      expect(firstDifference(header, bpftool(object))).toBeUndefined();
      compileWith(header, 'int use(struct all *a) { return a->c.b; }\n');
    });
  }
});
