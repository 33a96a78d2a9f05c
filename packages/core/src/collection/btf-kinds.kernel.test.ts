import { Btf, BtfBuilder, type NewType } from '@ebpf/btf';
import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { BtfHandle } from '../btf/handle.ts';
import { downgradeType, intType, kernelAcceptsBtf, type OptionalBtfKind } from './btf-kinds.ts';

const kinds: OptionalBtfKind[] = ['decl_tag', 'type_tag', 'enum64', 'float', 'global_func'];
const int = intType;
const samples: NewType[] = [
  { kind: 'typedef', name: 't', target: 1 },
  { kind: 'decl_tag', name: 'tag', target: 2, componentIndex: -1, attribute: false },
  { kind: 'type_tag', name: 'tag', target: 1, attribute: false },
  { kind: 'enum64', name: 'e', size: 8, signed: false, values: [{ name: 'v', value: 1n << 40n }] },
  { kind: 'float', name: 'double', size: 8 },
  { kind: 'func_proto', name: '', returns: 1, params: [] },
  { kind: 'func', name: 'f', proto: 7, linkage: 1 },
];

const marshal = (types: readonly NewType[]): Uint8Array => {
  const builder = new BtfBuilder();
  for (const type of types) builder.add(type);
  return builder.marshal();
};

requireKernel('BTF kinds the kernel accepts (kernel)', () => {
  it('finds every optional kind accepted by this kernel (6.18 has them all)', () => {
    expect(kinds.filter((kind) => !kernelAcceptsBtf(kind))).toEqual([]);
  });

  it('downgrades each kind for a kernel without it to types the kernel accepts, keeping ids and sizes', () => {
    const downgraded = [int, ...samples].map((type) => downgradeType(type, () => false));
    expect(downgraded.map((t) => t.kind)).toEqual([
      'int',
      'typedef',
      'int',
      'const',
      'union',
      'struct',
      'func_proto',
      'func',
    ]);
    const before = Btf.parse(marshal([int, ...samples]));
    const after = Btf.parse(marshal(downgraded));
    for (const id of [5, 6]) expect(after.sizeof(id)).toBe(before.sizeof(id));
    using handle = BtfHandle.load(marshal(downgraded));
    expect(handle.info().size).toBeGreaterThan(0);
  });

  it('leaves types alone for a kernel that accepts them', () => {
    for (const type of samples) expect(downgradeType(type, () => true)).toBe(type);
  });
});
