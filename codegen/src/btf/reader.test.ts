import { describe, expect, it } from 'vitest';
import { btfAggregate } from './aggregate.ts';
import { BtfBuilder } from './builder.ts';
import { BtfError, btfSizeOf, findNamed, parseBtf, resolveType } from './reader.ts';

function sample(): Uint8Array {
  const b = new BtfBuilder();
  const u32 = b.type(1, 'unsigned int', 0, 4, [32]); // 1
  const u64 = b.type(1, 'long long unsigned int', 0, 8, [64]); // 2
  const td32 = b.type(8, '__u32', 0, u32); // 3
  const td64 = b.type(8, '__aligned_u64', 0, u64); // 4
  const chr = b.type(1, 'char', 0, 1, [(1 << 24) | 8]); // 5 (signed)
  const arr = b.type(3, '', 0, 0, [chr, u32, 16]); // 6: char[16]
  // 7: union { __u32 x; __aligned_u64 y; }
  const un = b.type(5, '', 2, 8, [b.str('x'), td32, 0, b.str('y'), td64, 0]);
  // 8: struct s { __u32 a; union {...}; char name[16]; __u32 bits:3 (bitfield, kind_flag) }
  b.type(
    4,
    's',
    4,
    40,
    [b.str('a'), td32, 0, 0, un, 64, b.str('name'), arr, 128, b.str('bits'), td32, (3 << 24) | 256],
    true,
  );
  // 9: enum e (signed) and 10: enum64
  b.type(6, 'e', 2, 4, [b.str('E_A'), 0, b.str('E_NEG'), 0xffffffff], true);
  b.type(19, 'e64', 1, 8, [b.str('BIG'), 0, 1]);
  b.type(10, '', 0, td32); // 11: const __u32
  return b.build();
}

describe('parseBtf', () => {
  it('decodes ints, typedefs, arrays, unions, structs with bitfields, enums and enum64', () => {
    const btf = parseBtf(sample());
    expect(btf.types).toHaveLength(12);
    expect(btf.types[1]).toEqual({ kind: 'int', name: 'unsigned int', size: 4, signed: false, bits: 32 });
    expect(btf.types[5]).toMatchObject({ kind: 'int', signed: true });
    expect(btf.types[6]).toEqual({ kind: 'array', name: '', type: 5, nelems: 16 });
    const s = findNamed(btf, 'struct', 's')!;
    expect(s.id).toBe(8);
    expect(s.type.members[3]).toEqual({ name: 'bits', type: 3, bitOffset: 256, bitSize: 3 });
    expect(findNamed(btf, 'enum', 'e')!.type.values).toEqual([
      { name: 'E_A', value: 0n },
      { name: 'E_NEG', value: -1n },
    ]);
    expect(findNamed(btf, 'enum', 'e64')!.type.values).toEqual([{ name: 'BIG', value: 1n << 32n }]);
    expect(resolveType(btf, 11)).toBe(1);
    expect(btfSizeOf(btf, 6)).toBe(16);
  });

  it('turns a struct into an IR aggregate with absolute offsets', () => {
    const agg = btfAggregate(parseBtf(sample()), 'struct s')!;
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
    expect(btfAggregate(parseBtf(sample()), 'struct missing')).toBeUndefined();
  });

  it.each([
    [new Uint8Array(10), 'x.btf: too short for a BTF header (10 bytes)'],
    [new Uint8Array(24), 'x.btf: bad magic, not a BTF blob'],
    [sample().subarray(0, 60), 'x.btf: section extends past the end of the blob'],
  ])('rejects malformed input (%#)', (data, message) => {
    expect(() => parseBtf(data, 'x.btf')).toThrow(BtfError);
    expect(() => parseBtf(data, 'x.btf')).toThrow(message);
  });

  it('rejects unknown kinds with the type id', () => {
    const b = new BtfBuilder();
    b.type(1, 'int', 0, 4, [(1 << 24) | 32]);
    b.type(31, 'weird', 0, 0);
    expect(() => parseBtf(b.build(), 'k.btf')).toThrow('k.btf: unknown BTF kind 31 for type id 2');
  });
});
