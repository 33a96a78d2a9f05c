/** The object's BTF patched in place equals the BTF rebuilt type by type, and the kernel takes it. */
import { readFileSync } from 'node:fs';
import { requireKernel } from '@ebpf/test-utils';
import { buildObject, Scratch, vmlinuxHeader } from '@ebpf/test-utils/clang';
import { afterAll, expect, it } from 'vitest';
import { BtfHandle } from '../btf/handle.ts';
import { patchedBtfSection, rebuiltBtf } from './object-btf.ts';
import { CollectionSpec } from './spec.ts';

const scratch = new Scratch();
afterAll(() => scratch.dispose());

/** Corpus objects (those that parse) and whether their BTF can be patched in place on this kernel. */
const corpus: ReadonlyArray<[name: string, patched: boolean]> = [
  ['auto-attach', true],
  ['btf-ext', true],
  ['core-basics', true],
  ['cross-section-calls', true],
  ['elf-basics', true],
  // Its .ksyms DATASEC lists kfuncs, which the kernel's copy must drop: that moves records.
  ['externs-kconfig-ksym', false],
  ['globals-of-every-section', true],
  ['isa-v4', true],
  ['legacy-maps', true],
  ['legacy-packet-loads', true],
  ['maps-of-every-kind', true],
  ['per-program-problems', true],
  ['programs-and-subprograms', true],
  ['sections-of-every-kind', true],
  ['verifier-rejects', true],
];

requireKernel('object BTF for the kernel (kernel)', () => {
  it.each(corpus)(
    '%s: the BTF patched in place is byte for byte the rebuilt one (patched: %s)',
    (name, patched) => {
      const include = name === 'core-basics' ? [vmlinuxHeader(scratch)] : [];
      const spec = CollectionSpec.fromFile(buildObject(scratch, name, 'bpfel', include));
      const btf = spec.btf;
      if (btf === undefined) throw new Error(`${name} has no BTF`);
      const inPlace = patchedBtfSection(btf, spec);
      expect(inPlace !== undefined).toBe(patched);
      if (inPlace === undefined) return;
      expect(Buffer.from(inPlace).equals(Buffer.from(rebuiltBtf(btf, spec)))).toBe(true);
      BtfHandle.load(inPlace).close();
    },
  );

  it('leaves the bytes it was parsed from as they were (a Buffer, whose slice() is a view)', () => {
    const bytes = readFileSync(buildObject(scratch, 'globals-of-every-section', 'bpfel'));
    const before = bytes.slice();
    const spec = CollectionSpec.parse(bytes);
    if (spec.btf !== undefined) patchedBtfSection(spec.btf, spec);
    expect(bytes.equals(before)).toBe(true);
  });

  it('rebuilds big-endian BTF, which the kernel reads only in its own byte order', () => {
    const spec = CollectionSpec.fromFile(buildObject(scratch, 'globals-of-every-section', 'bpfeb'));
    expect(spec.btf && patchedBtfSection(spec.btf, spec)).toBeUndefined();
  });
});
