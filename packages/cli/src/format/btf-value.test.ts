import { Btf, BtfBuilder } from '@ebpf/btf';
import { BtfIntEncoding } from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { decodeBtfValue, formatBtfValue } from './btf-value.ts';

/** BTF of `struct s { char name[4]; _Bool on; enum e kind; unsigned a:3, b:9; }` and friends. */
function types(littleEndian: boolean) {
  const b = new BtfBuilder();
  const u32 = b.add({ kind: 'int', name: 'unsigned int', size: 4, encoding: 0, bitOffset: 0, bits: 32 });
  const char = b.add({
    kind: 'int',
    name: 'char',
    size: 1,
    encoding: BtfIntEncoding.Signed,
    bitOffset: 0,
    bits: 8,
  });
  const bool = b.add({
    kind: 'int',
    name: '_Bool',
    size: 1,
    encoding: BtfIntEncoding.Bool,
    bitOffset: 0,
    bits: 8,
  });
  const name = b.add({ kind: 'array', name: '', element: char, index: u32, count: 4 });
  const kind = b.add({
    kind: 'enum',
    name: 'e',
    size: 1,
    signed: false,
    values: [{ name: 'ONE', value: 1 }],
  });
  const s = b.add({
    kind: 'struct',
    name: 's',
    size: 12,
    members: [
      { name: 'name', type: name, bitOffset: 0, bitfieldSize: 0 },
      { name: 'on', type: bool, bitOffset: 32, bitfieldSize: 0 },
      { name: 'kind', type: kind, bitOffset: 40, bitfieldSize: 0 },
      { name: 'a', type: u32, bitOffset: 64, bitfieldSize: 3 },
      { name: '__proto__', type: u32, bitOffset: 67, bitfieldSize: 9 },
    ],
  });
  return { btf: Btf.parse(b.marshal({ littleEndian })), s };
}

describe('decodeBtfValue', () => {
  it('decodes a struct by member name: char string, bool, enum by name, bitfields as hex', () => {
    const { btf, s } = types(true);
    // a = 5, __proto__ = 0x101: bits 0-2 and 3-11 of the little-endian word at byte 8.
    const word = 5 | (0x101 << 3);
    const bytes = Uint8Array.of(0x68, 0x69, 0, 0, 1, 1, 0, 0, word & 0xff, word >> 8, 0, 0);
    // A member called __proto__ is a field like any other.
    expect(JSON.stringify(decodeBtfValue(btf, s, bytes))).toBe(
      '{"name":"hi","on":true,"kind":"ONE","a":"0x5","__proto__":"0x101"}',
    );
  });

  it('reads big-endian BTF from the most significant bit; unnamed enum values and unprintable chars stay numbers', () => {
    const { btf, s } = types(false);
    // a = 5 in the top 3 bits of byte 8, then 9 bits of 0x101.
    const bits = (5 << 29) | (0x101 << 20);
    const bytes = Uint8Array.of(1, 0x68, 0, 0, 0, 7, 0, 0, bits >>> 24, (bits >>> 16) & 0xff, 0, 0);
    expect(decodeBtfValue(btf, s, bytes)).toMatchObject({
      name: [1, 0x68, 0, 0],
      on: false,
      kind: 7,
      a: '0x5',
    });
  });

  it('gives undefined for bytes of another size than the type', () => {
    const { btf, s } = types(true);
    expect(decodeBtfValue(btf, s, new Uint8Array(8))).toBeUndefined();
  });
});

describe('formatBtfValue', () => {
  const value = { name: 'hi', list: [1, 2n], '.bss': [{ x: true }] };

  it('prints one line when it fits, names quoted only when they are not identifiers', () => {
    expect(formatBtfValue(value, 80)).toBe('{name: "hi", list: [1, 2], ".bss": [{x: true}]}');
  });

  it('puts a member a line when the line would be too long', () => {
    expect(formatBtfValue(value, 30)).toBe('{\n  name: "hi",\n  list: [1, 2],\n  ".bss": [{x: true}]\n}');
  });
});
