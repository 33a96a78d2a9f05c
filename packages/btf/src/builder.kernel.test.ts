import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Btf, BtfBuilder } from './index.ts';

const SYSFS = '/sys/kernel/btf';
const vmlinux = readFileSync(`${SYSFS}/vmlinux`);
const modules = readdirSync(SYSFS).filter((name) => name !== 'vmlinux');

/** The index of the first byte where `a` and `b` differ, -1 when equal. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

describe('parsing then marshalling this machine’s BTF', () => {
  const base = Btf.parse(vmlinux);

  it('gives vmlinux back byte for byte', () => {
    const out = BtfBuilder.from(base).marshal({ littleEndian: base.littleEndian });
    expect(firstDifference(out, vmlinux)).toBe(-1);
  });

  it.each(modules.length ? modules : ['(no module BTF is loaded)'])(
    'gives module %s back byte for byte',
    (name) => {
      if (!modules.length) return;
      const bytes = readFileSync(`${SYSFS}/${name}`);
      const btf = Btf.parse(bytes, { base });
      expect(firstDifference(BtfBuilder.from(btf).marshal({ littleEndian: btf.littleEndian }), bytes)).toBe(
        -1,
      );
    },
  );

  it('gives vmlinux back in the other byte order, parsed to the same types', () => {
    const swapped = Btf.parse(BtfBuilder.from(base).marshal({ littleEndian: !base.littleEndian }));
    expect(swapped.littleEndian).toBe(!base.littleEndian);
    for (const id of [1, 100, base.typeByName('task_struct', 'struct')!.id, base.nextId - 1])
      expect(swapped.typeById(id)).toEqual(base.typeById(id));
  });
});
