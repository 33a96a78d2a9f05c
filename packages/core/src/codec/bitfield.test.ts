import { describe, expect, it } from 'vitest';
import { bitfield, codecs, struct, union } from './index.ts';

const view = (bytes: number[]): DataView => new DataView(new Uint8Array(bytes).buffer);

describe('bitfield', () => {
  // struct { __u8 a : 3; __u8 b : 5; __u16 c : 12; __s16 d : 4; } on a little-endian host.
  const packed = struct(
    {
      a: [bitfield(0, 3), 0],
      b: [bitfield(3, 5), 0],
      c: [bitfield(0, 12), 2],
      d: [bitfield(4, 4, 'signed'), 3],
    },
    { size: 4 },
  );

  it('reads the bits C puts each field in', () => {
    // a = 5, b = 17: 17 << 3 | 5 = 0x8d; c = 0xabc, d = -2 (0xe): bytes bc, ea.
    expect(packed.read(view([0x8d, 0, 0xbc, 0xea]), 0)).toEqual({ a: 5, b: 17, c: 0xabc, d: -2 });
  });

  it('writes only its bits, and a struct clears the bytes of its bitfields first', () => {
    const out = view([0xff, 0xff, 0xff, 0xff]);
    packed.write(out, 0, { a: 5, b: 17, c: 0xabc, d: -2 });
    expect([...new Uint8Array(out.buffer)]).toEqual([0x8d, 0, 0xbc, 0xea]);
    const alone = view([0xff]);
    bitfield(2, 3).write(alone, 0, 0);
    expect(alone.getUint8(0)).toBe(0b11100011);
  });

  it('spans bytes and reads fields wider than 32 bits as bigint', () => {
    const wide = bitfield(4, 40);
    const out = view(new Array(6).fill(0));
    wide.write(out, 0, 0xfedcba9876n);
    expect(wide.size).toBe(6);
    expect(wide.read(out, 0)).toBe(0xfedcba9876n);
    expect(out.getUint8(0)).toBe(0x60);
    const b = bitfield(7, 1, 'bool');
    const bit = view([0]);
    b.write(bit, 0, true);
    expect([bit.getUint8(0), b.read(bit, 0)]).toEqual([0x80, true]);
  });

  it('refuses values that do not fit, and bad shapes', () => {
    const out = view([0, 0]);
    expect(() => bitfield(0, 3).write(out, 0, 8)).toThrow(RangeError);
    expect(() => bitfield(0, 3, 'signed').write(out, 0, -5)).toThrow(RangeError);
    expect(() => bitfield(0, 3).write(out, 0, 1.5)).toThrow(TypeError);
    expect(() => bitfield(8, 1)).toThrow(RangeError);
    expect(() => bitfield(0, 65)).toThrow(RangeError);
    expect(() => bitfield(0, 2, 'bool')).toThrow(RangeError);
  });
});

describe('union', () => {
  const u = union({ word: 'u32', bytes: codecs.u8, wide: 'u64' });

  it('reads every member from the same bytes', () => {
    const v = view([1, 2, 0, 0, 0, 0, 0, 0]);
    expect(u.size).toBe(8);
    expect(u.read(v, 0)).toEqual({ word: 0x201, bytes: 1, wide: 0x201n });
  });

  it('writes the first member present and zeroes the rest', () => {
    const v = view([9, 9, 9, 9, 9, 9, 9, 9]);
    u.write(v, 0, { bytes: 7 } as never);
    expect([...new Uint8Array(v.buffer)]).toEqual([7, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => u.write(v, 0, {} as never)).toThrow(/one of word, bytes, wide/);
    expect(() => u.write(v, 0, { word: -1 } as never)).toThrow(/member 'word'/);
  });
});
