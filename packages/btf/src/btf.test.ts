import { BtfKind } from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { rawCorpus } from '../fuzz/corpus.ts';
import { fuzzBtf } from '../fuzz/fuzz.ts';
import { info, raw, sample } from '../test/raw.ts';
import { Btf, BtfBuilder } from './index.ts';

describe('Btf.parse and queries', () => {
  for (const le of [true, false]) {
    it(`reads ${le ? 'little' : 'big'}-endian BTF and answers every query`, () => {
      const btf = Btf.parse(raw(sample, le));
      expect(btf.littleEndian).toBe(le);
      expect(btf.count).toBe(6);
      expect(btf.typeById(1)).toMatchObject({ kind: 'int', name: 'int', size: 4, bits: 32, encoding: 1 });
      const s = btf.typeByName('s', 'struct');
      expect(s).toMatchObject({ kind: 'struct', size: 8 });
      expect(s?.kind === 'struct' && s.members).toEqual([
        { name: 'a', type: 1, bitOffset: 0, bitfieldSize: 0 },
        { name: 'b', type: 1, bitOffset: 32, bitfieldSize: 3 },
      ]);
      expect(btf.resolve(5).id).toBe(3);
      expect(btf.sizeof(5)).toBe(8);
      expect(btf.sizeof(6)).toBe(16);
      expect(btf.sizeof(2)).toBe(8);
      expect(btf.alignof(3)).toBe(4);
      expect(btf.nameOf(2)).toBe('struct s *');
      expect(btf.nameOf(5)).toBe('const s_t');
      expect(btf.nameOf(6)).toBe('int[4]');
      expect(btf.typeByName('nope')).toBeUndefined();
      expect([...btf].map((t) => t.id)).toEqual([1, 2, 3, 4, 5, 6]);
    });
  }

  it('aligns as the printers do: a packed struct to 1, a var as its type, a func not at all', () => {
    const b = new BtfBuilder();
    const int = b.add({ kind: 'int', name: 'int', size: 4, encoding: 1, bitOffset: 0, bits: 32 });
    const packed = b.add({
      kind: 'struct',
      name: 'p',
      size: 5,
      members: [{ name: 'a', type: int, bitOffset: 8, bitfieldSize: 0 }],
    });
    const v = b.add({ kind: 'var', name: 'v', type: int, linkage: 1 });
    const proto = b.add({ kind: 'func_proto', name: '', returns: int, params: [] });
    const f = b.add({ kind: 'func', name: 'f', proto, linkage: 1 });
    const btf = Btf.parse(b.marshal());
    expect(btf.alignof(packed)).toBe(1);
    expect(btf.alignof(v)).toBe(4);
    expect(() => btf.alignof(f)).toThrow(/has no alignment/);
  });

  it('finds types by name across kinds in id order, and by kind alone', () => {
    const b = new BtfBuilder();
    b.add({ kind: 'fwd', name: 'x', union: false });
    b.add({ kind: 'typedef', name: 'x', target: 3 });
    b.add({ kind: 'struct', name: 'x', size: 0, members: [] });
    b.add({ kind: 'typedef', name: 'y', target: 3 });
    const btf = Btf.parse(b.marshal());
    expect(btf.typesByName('x').map((t) => t.id)).toEqual([1, 2, 3]);
    expect(btf.typesByName('x', 'typedef').map((t) => t.id)).toEqual([2]);
    expect(btf.typeByName('y')?.id).toBe(4);
    expect(() => btf.typeByName('x')).toThrow(/3 types are called x: ids 1, 2, 3/);
    expect(btf.typesByName('x', 'void')).toEqual([]);
    expect(btf.typesByName('\ud800')).toEqual([]);
    expect(btf.typesByName('x\0y')).toEqual([]);
    // The first query of a kind compares in place, later ones use the index: both agree.
    expect(btf.typesByName('x', 'struct').map((t) => t.id)).toEqual([3]);
    expect(btf.typesByName('x', 'struct').map((t) => t.id)).toEqual([3]);
  });

  it('reads a longer header than it knows', () => {
    expect(Btf.parse(raw(sample, true, 32)).count).toBe(6);
  });

  it('continues ids and strings of a base for split BTF', () => {
    const base = Btf.parse(raw(sample));
    // The base's string section, '\0int\0s\0a\0b\0s_t\0', is 15 bytes: split offsets start there.
    const btf = Btf.parse(
      raw((s) => [15 + s('p'), info(BtfKind.Typedef), 3]),
      { base },
    );
    expect(btf.firstId).toBe(7);
    expect(btf.typeById(7)).toMatchObject({ kind: 'typedef', name: 'p', target: 3 });
    expect(btf.typeByName('p')?.id).toBe(7);
    expect(btf.typeById(3).name).toBe('s');
    expect(btf.typeByName('s')?.id).toBe(3);
  });

  it('names the offset of what is wrong in hostile input', () => {
    const bad = (bytes: Uint8Array, what: RegExp): void => {
      expect(() => {
        const btf = Btf.parse(bytes);
        for (const _ of btf) btf.sizeof(_.id === 0 ? 1 : _.id);
      }).toThrow(what);
    };
    bad(new Uint8Array(3), /too few/);
    bad(raw(sample).fill(0, 0, 2), /bad magic/);
    bad(
      raw((s) => [s('x'), info(31), 0]),
      /byte 28: unknown kind 31/,
    );
    bad(
      raw((s) => [s('x'), info(BtfKind.Ptr), 99]),
      /refers to type id 99/,
    );
    bad(
      raw(() => [0, info(BtfKind.Typedef), 1]),
      /refers to itself/,
    );
    bad(
      raw(() => [0, info(BtfKind.Struct, 1000), 4]),
      /runs past/,
    );
    bad(
      raw(() => [1000, info(BtfKind.Int), 4, 32]),
      /string offset 1000/,
    );
  });

  it('throws only BtfError on corrupted and truncated input, and never hangs', () => {
    fuzzBtf(rawCorpus(), 10_000, 12345);
  });
});
