import { BtfFuncLinkage, BtfVarLinkage } from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { raw, sample } from '../test/raw.ts';
import { Btf, BtfBuilder, BtfError, type NewType } from './index.ts';

/** Types 1 (int) and 2 (a struct) for the others to refer to, then one type of each kind. */
const INT: NewType = { kind: 'int', name: 'int', size: 4, encoding: 1, bitOffset: 0, bits: 32 };
const KINDS: [string, NewType][] = [
  ['int', { kind: 'int', name: 'u8', size: 1, encoding: 0, bitOffset: 0, bits: 8 }],
  ['float', { kind: 'float', name: 'double', size: 8 }],
  ['ptr', { kind: 'ptr', name: '', target: 2 }],
  ['typedef', { kind: 'typedef', name: 's_t', target: 2 }],
  ['volatile', { kind: 'volatile', name: '', target: 1 }],
  ['const', { kind: 'const', name: '', target: 1 }],
  ['restrict', { kind: 'restrict', name: '', target: 3 }],
  ['type_tag', { kind: 'type_tag', name: 'user', target: 1, attribute: false }],
  ['type_tag attribute', { kind: 'type_tag', name: 'address_space(1)', target: 1, attribute: true }],
  ['array', { kind: 'array', name: '', element: 1, index: 1, count: 16 }],
  [
    'struct with bitfields',
    {
      kind: 'struct',
      name: 'bits',
      size: 8,
      members: [
        { name: 'a', type: 1, bitOffset: 0, bitfieldSize: 0 },
        { name: 'b', type: 1, bitOffset: 35, bitfieldSize: 3 },
      ],
    },
  ],
  [
    'union',
    { kind: 'union', name: 'u', size: 4, members: [{ name: 'x', type: 1, bitOffset: 0, bitfieldSize: 0 }] },
  ],
  [
    'signed enum',
    {
      kind: 'enum',
      name: 'e',
      size: 4,
      signed: true,
      values: [
        { name: 'NEG', value: -1 },
        { name: 'POS', value: 7 },
      ],
    },
  ],
  [
    'unsigned enum',
    { kind: 'enum', name: 'f', size: 4, signed: false, values: [{ name: 'BIG', value: 0xffffffff }] },
  ],
  [
    'enum64',
    {
      kind: 'enum64',
      name: 'g',
      size: 8,
      signed: true,
      values: [
        { name: 'MIN', value: -(1n << 63n) },
        { name: 'ONE', value: 1n },
      ],
    },
  ],
  ['fwd union', { kind: 'fwd', name: 'later', union: true }],
  [
    'func_proto',
    {
      kind: 'func_proto',
      name: '',
      returns: 1,
      params: [
        { name: 'x', type: 1 },
        { name: '', type: 0 },
      ],
    },
  ],
  ['func', { kind: 'func', name: 'f', proto: 2, linkage: BtfFuncLinkage.Global }],
  ['var', { kind: 'var', name: 'v', type: 1, linkage: BtfVarLinkage.GlobalAllocated }],
  ['datasec', { kind: 'datasec', name: '.data', size: 8, vars: [{ type: 1, offset: 4, size: 4 }] }],
  ['decl_tag', { kind: 'decl_tag', name: 'kfunc', target: 2, componentIndex: -1, attribute: false }],
  ['decl_tag on a member', { kind: 'decl_tag', name: 'tag', target: 2, componentIndex: 1, attribute: true }],
];

describe('BtfBuilder', () => {
  for (const littleEndian of [true, false])
    it.each(KINDS)(`marshals %s so that parsing gives it back (${littleEndian ? 'LE' : 'BE'})`, (_, type) => {
      const b = new BtfBuilder();
      b.add(INT);
      b.add({
        kind: 'struct',
        name: 's',
        size: 4,
        members: [{ name: 'm', type: 1, bitOffset: 0, bitfieldSize: 0 }],
      });
      b.add({ kind: 'ptr', name: '', target: 1 });
      expect(b.add(type)).toBe(4);
      const btf = Btf.parse(b.marshal({ littleEndian }));
      expect(btf.littleEndian).toBe(littleEndian);
      expect(btf.typeById(4)).toEqual({ ...type, id: 4 });
    });

  it('writes the same bytes as hand-laid raw BTF, strings in order of first use', () => {
    const expected = raw(sample);
    const b = new BtfBuilder();
    for (const t of Btf.parse(expected)) if (t.kind !== 'void') b.add(t);
    expect(b.marshal()).toEqual(expected);
  });

  it('stores each name once', () => {
    const b = new BtfBuilder();
    b.add(INT);
    b.add({ kind: 'typedef', name: 'int', target: 1 });
    // '\0int\0': the typedef reuses the int's name.
    expect(Btf.parse(b.marshal()).strings.bytes.length).toBe(5);
  });

  it('continues a base: ids and string offsets, reusing the base’s strings', () => {
    const base = Btf.parse(raw(sample));
    const b = new BtfBuilder({ base });
    expect(b.add({ kind: 'typedef', name: 's_t', target: 3 })).toBe(7);
    expect(b.add({ kind: 'typedef', name: 'new_t', target: 7 })).toBe(8);
    const split = Btf.parse(b.marshal(), { base });
    // Only the new name is stored; s_t is the base's.
    expect(split.strings.bytes.length).toBe('new_t\0'.length);
    expect(split.typeById(7)).toMatchObject({ name: 's_t', target: 3 });
    expect(split.typeByName('new_t')?.id).toBe(8);
  });

  it('from(btf) keeps the string section, so existing offsets stay valid', () => {
    const btf = Btf.parse(raw(sample));
    const b = BtfBuilder.from(btf);
    expect(b.nextId).toBe(7);
    b.add({ kind: 'ptr', name: 'named_ptr', target: 3 });
    const grown = Btf.parse(b.marshal());
    expect(grown.strings.bytes.subarray(0, btf.strings.bytes.length)).toEqual(btf.strings.bytes);
    expect(grown.typeById(7).name).toBe('named_ptr');
    expect([...btf].map((t) => grown.typeById(t.id))).toEqual([...btf]);
  });

  it('rejects what BTF cannot hold, naming the type', () => {
    const fails = (type: NewType, what: RegExp): void => {
      const b = new BtfBuilder();
      expect(() => b.add(type)).toThrow(BtfError);
      expect(() => b.add(type)).toThrow(what);
    };
    fails(
      { kind: 'int', name: 'x', size: 4, encoding: 0, bitOffset: 0, bits: 300 },
      /type 1 \(int\).*out of range/,
    );
    fails({ kind: 'typedef', name: 'a\0b', target: 0 }, /type 1: name "a\\u0000b" cannot be a BTF string/);
    fails({ kind: 'float', name: 'f', size: -1 }, /type 1: -1 does not fit a u32/);
    fails(
      { kind: 'enum', name: 'e', size: 4, signed: false, values: [{ name: 'X', value: 2 ** 32 }] },
      /not a 32-bit/,
    );
    const members = Array.from({ length: 0x10000 }, () => ({
      name: '',
      type: 0,
      bitOffset: 0,
      bitfieldSize: 0,
    }));
    fails({ kind: 'struct', name: 'huge', size: 0, members }, /65536 entries, more than 65535/);
    const b = new BtfBuilder();
    b.add({ kind: 'ptr', name: '', target: 2 });
    expect(() => b.marshal()).toThrow(/refers to type id 2, which was never added/);
    b.add(INT);
    expect(Btf.parse(b.marshal()).nameOf(1)).toBe('int *');
  });
});
