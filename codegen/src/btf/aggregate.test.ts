import { Btf, BtfBuilder } from '@ebpf/btf';
import { BtfIntEncoding } from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { btfAggregate } from './aggregate.ts';
import { anonymousEnumWith, enumNamed, kernelEnums } from './enums.ts';

const member = (name: string, type: number, bitOffset: number, bitfieldSize = 0) => ({
  name,
  type,
  bitOffset,
  bitfieldSize,
});

function sample(): Btf {
  const b = new BtfBuilder();
  const int = (name: string, size: number, encoding = 0) =>
    b.add({ kind: 'int', name, size, encoding, bitOffset: 0, bits: size * 8 });
  const u32 = int('unsigned int', 4);
  const u64 = int('long long unsigned int', 8);
  const td32 = b.add({ kind: 'typedef', name: '__u32', target: u32 });
  const td64 = b.add({ kind: 'typedef', name: '__aligned_u64', target: u64 });
  const chr = int('char', 1, BtfIntEncoding.Signed);
  const arr = b.add({ kind: 'array', name: '', element: chr, index: u32, count: 16 });
  const un = b.add({
    kind: 'union',
    name: '',
    size: 8,
    members: [member('x', td32, 0), member('y', td64, 0)],
  });
  b.add({
    kind: 'struct',
    name: 's',
    size: 40,
    members: [
      member('a', td32, 0),
      member('', un, 64),
      member('name', arr, 128),
      member('bits', td32, 256, 3),
    ],
  });
  const E = (name: string, value: number) => ({ name, value });
  b.add({ kind: 'enum', name: 'e', size: 4, signed: true, values: [E('E_A', 0), E('E_NEG', -1)] });
  b.add({ kind: 'enum64', name: 'e64', size: 8, signed: false, values: [{ name: 'BIG', value: 1n << 32n }] });
  b.add({ kind: 'enum', name: '', size: 4, signed: false, values: [E('F_ONE', 1), E('F_TWO', 2)] });
  return Btf.parse(b.marshal());
}

describe('reading the kernel BTF for the generator', () => {
  it('turns a struct into an IR aggregate with absolute offsets', () => {
    const agg = btfAggregate(sample(), 'struct s')!;
    expect(agg).toMatchObject({ name: 'struct s', size: 40, align: 8, from: 'btf' });
    expect(agg.members).toEqual([
      { name: 'a', ctype: '__u32', offset: 0, size: 4, kind: 'scalar', scalar: 'u32' },
      {
        name: '',
        ctype: 'union',
        offset: 8,
        size: 8,
        kind: 'union',
        members: [
          { name: 'x', ctype: '__u32', offset: 8, size: 4, kind: 'scalar', scalar: 'u32' },
          { name: 'y', ctype: '__aligned_u64', offset: 8, size: 8, kind: 'scalar', scalar: 'u64' },
        ],
      },
      { name: 'name', ctype: 'char[16]', offset: 16, size: 16, kind: 'array', scalar: 's8', count: 16 },
      {
        name: 'bits',
        ctype: '__u32',
        offset: 32,
        size: 4,
        kind: 'scalar',
        scalar: 'u32',
        bitOffset: 0,
        bitSize: 3,
      },
    ]);
    expect(btfAggregate(sample(), 'struct missing')).toBeUndefined();
  });

  it('reads enum and enum64 values as bigints, signed when BTF says so', () => {
    const btf = sample();
    expect(enumNamed(btf, 'e')?.values).toEqual([
      { name: 'E_A', value: 0n },
      { name: 'E_NEG', value: -1n },
    ]);
    expect(enumNamed(btf, 'e64')?.values).toEqual([{ name: 'BIG', value: 1n << 32n }]);
    expect(anonymousEnumWith(btf, 'F_TWO')?.values.map((v) => v.name)).toEqual(['F_ONE', 'F_TWO']);
    expect([...kernelEnums(btf)].map((e) => e.name)).toEqual(['e', 'e64', '']);
  });
});
