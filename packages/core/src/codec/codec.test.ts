import { describe, expect, it } from 'vitest';
import { array, bytes, codecs, cstring, ipv4, lpmKey, resolveCodec, struct } from './index.ts';

function roundTrip<T>(
  codec: { size: number; write(v: DataView, o: number, x: T): void; read(v: DataView, o: number): T },
  value: T,
): T {
  const buf = new Uint8Array(codec.size + 3);
  const view = new DataView(buf.buffer);
  codec.write(view, 3, value);
  return codec.read(view, 3);
}

describe('scalar codecs', () => {
  it.each([
    ['u8', 0xff, 1],
    ['u16', 0xbeef, 2],
    ['u32', 0xdeadbeef, 4],
    ['i8', -128, 1],
    ['i16', -30000, 2],
    ['i32', -2_000_000_000, 4],
    ['u64n', 2 ** 53 - 1, 8],
    ['i64n', -(2 ** 53 - 1), 8],
    ['i64n', -1, 8],
    ['f64', 1.5, 8],
    ['f32', 0.25, 4],
  ] as const)('%s round-trips %d in %d bytes', (name, value, size) => {
    const codec = resolveCodec(name) as ReturnType<typeof resolveCodec<'u32'>>;
    expect(codec.size).toBe(size);
    expect(roundTrip(codec, value)).toBe(value);
  });

  it('64-bit bigint codecs', () => {
    expect(roundTrip(codecs.u64, (1n << 64n) - 1n)).toBe((1n << 64n) - 1n);
    expect(roundTrip(codecs.i64, -(1n << 63n))).toBe(-(1n << 63n));
    expect(roundTrip(codecs.u64, 7 as unknown as bigint)).toBe(7n);
    expect(() => roundTrip(codecs.u64, 1n << 64n)).toThrow(RangeError);
    expect(() => roundTrip(codecs.u64, -1n)).toThrow(RangeError);
    expect(() => roundTrip(codecs.u64, 'x' as unknown as bigint)).toThrow(TypeError);
  });

  it('stores little-endian host order, u64n agrees with u64', () => {
    const buf = new Uint8Array(8);
    const view = new DataView(buf.buffer);
    codecs.u32.write(view, 0, 0x01020304);
    expect([...buf.subarray(0, 4)]).toEqual([4, 3, 2, 1]);
    codecs.u64n.write(view, 0, 0x1_0000_0002);
    expect(codecs.u64.read(view, 0)).toBe(0x1_0000_0002n);
    codecs.i64.write(view, 0, -5n);
    expect(codecs.i64n.read(view, 0)).toBe(-5);
  });

  it('rejects out-of-range and non-integer values with the codec name', () => {
    expect(() => roundTrip(codecs.u8, 256)).toThrow(/u8 value must be an integer in \[0, 255\]/);
    expect(() => roundTrip(codecs.u32, -1)).toThrow(RangeError);
    expect(() => roundTrip(codecs.u32, 1.5)).toThrow(RangeError);
    expect(() => roundTrip(codecs.u64n, 2 ** 53)).toThrow(RangeError);
    expect(() => roundTrip(codecs.u32, '1' as unknown as number)).toThrow(TypeError);
  });

  it('bool', () => {
    expect(roundTrip(codecs.bool, true)).toBe(true);
    expect(roundTrip(codecs.bool, false)).toBe(false);
  });

  it('unknown names and bad codec objects are rejected', () => {
    expect(() => resolveCodec('u128' as 'u8')).toThrow(/unknown codec 'u128'/);
    expect(() => resolveCodec('toString' as 'u8')).toThrow(/unknown codec/);
    expect(() => resolveCodec({} as never)).toThrow(TypeError);
  });
});

describe('bytes and cstring', () => {
  it('bytes copies on read and checks the length on write', () => {
    const codec = bytes(4);
    const buf = new Uint8Array(4);
    const view = new DataView(buf.buffer);
    codec.write(view, 0, Uint8Array.of(1, 2, 3, 4));
    const read = codec.read(view, 0);
    expect([...read]).toEqual([1, 2, 3, 4]);
    buf[0] = 9;
    expect(read[0]).toBe(1);
    expect(() => codec.write(view, 0, new Uint8Array(3))).toThrow(/4 bytes long, got 3/);
    expect(() => codec.write(view, 0, [1, 2, 3, 4] as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('cstring stops at NUL, zero-fills and refuses strings that do not fit', () => {
    const codec = cstring(8);
    const buf = new Uint8Array(8).fill(0xaa);
    const view = new DataView(buf.buffer);
    codec.write(view, 0, 'bash');
    expect([...buf]).toEqual([98, 97, 115, 104, 0, 0, 0, 0]);
    expect(codec.read(view, 0)).toBe('bash');
    expect(() => codec.write(view, 0, '12345678')).toThrow(RangeError);
  });
});

describe('struct', () => {
  it('takes explicit offsets and zeroes padding', () => {
    const codec = struct({ a: ['u32', 0], b: ['u64', 8], c: ['u8', 16] });
    expect(codec.size).toBe(24);
    const buf = new Uint8Array(24).fill(0xff);
    const view = new DataView(buf.buffer);
    codec.write(view, 0, { a: 1, b: 2n, c: 3 });
    expect([...buf.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
    expect([...buf.subarray(17)]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    const value = codec.read(view, 0);
    expect(value).toEqual({ a: 1, b: 2n, c: 3 });
  });

  it('lays fields out like C when offsets are left out', () => {
    const codec = struct({ pid: 'u32', bytes: 'u64n', comm: cstring(16), flag: 'u8' });
    expect(codec.fields.map((f) => f.offset)).toEqual([0, 8, 16, 32]);
    expect(codec.size).toBe(40);
    expect(roundTrip(codec, { pid: 7, bytes: 99, comm: 'node', flag: 1 })).toEqual({
      pid: 7,
      bytes: 99,
      comm: 'node',
      flag: 1,
    });
  });

  it('places fields by the alignment each codec declares, not by its size', () => {
    expect(struct({ tag: 'u8', raw: bytes(4) }).fields[1]!.offset).toBe(1);
    expect(struct({ tag: 'u8', addr: ipv4 }).fields[1]!.offset).toBe(4);
    expect(struct({ tag: 'u8', name: cstring(8) }).fields[1]!.offset).toBe(1);
    expect(struct({ tag: 'u8', key: lpmKey(ipv4) }).fields[1]!.offset).toBe(4);
    const wide = struct({ a: 'u8', b: 'u64' });
    expect([wide.align, struct({ x: 'u8', w: wide }).fields[1]!.offset]).toEqual([8, 8]);
    expect(array('u16', 3).align).toBe(2);
    for (const codec of Object.values(codecs)) expect(codec.align).toBe(codec.size);
  });

  it('nests structs and arrays', () => {
    const inner = struct({ x: 'u16', y: 'u16' });
    const codec = struct({ head: 'u8', points: array(inner, 2), tail: 'u32' });
    expect(codec.fields.map((f) => f.offset)).toEqual([0, 2, 12]);
    const v = {
      head: 1,
      points: [
        { x: 1, y: 2 },
        { x: 3, y: 4 },
      ],
      tail: 5,
    };
    expect(roundTrip(codec, v)).toEqual(v);
  });

  it('names the field in errors and checks sizes', () => {
    const codec = struct({ a: 'u8', b: 'u16' });
    expect(() => roundTrip(codec, { a: 1 } as never)).toThrow(/field 'b' is missing/);
    expect(() => roundTrip(codec, { a: 300, b: 1 })).toThrow(/field 'a'/);
    expect(() => roundTrip(codec, 5 as never)).toThrow(TypeError);
    expect(() => struct({ a: 'u64' }, { size: 4 })).toThrow(RangeError);
    expect(struct({ a: 'u32' }, { size: 16 }).size).toBe(16);
  });
});

describe('array', () => {
  it('packs elements and checks the length', () => {
    const codec = array('u32', 3);
    expect(codec.size).toBe(12);
    expect(roundTrip(codec, [1, 2, 3])).toEqual([1, 2, 3]);
    expect(() => roundTrip(codec, [1, 2])).toThrow(/3 elements, got 2/);
    expect(() => roundTrip(codec, 1 as never)).toThrow(TypeError);
  });
});

describe('LPM keys', () => {
  it('encodes a host-order prefix length followed by the data', () => {
    const codec = lpmKey(4);
    const buf = new Uint8Array(8);
    codec.write(new DataView(buf.buffer), 0, { prefixLen: 24, data: Uint8Array.of(10, 0, 0, 0) });
    expect([...buf]).toEqual([24, 0, 0, 0, 10, 0, 0, 0]);
    expect(() =>
      codec.write(new DataView(buf.buffer), 0, { prefixLen: 33, data: new Uint8Array(4) }),
    ).toThrow(/prefixLen must be an integer in \[0, 32\]/);
  });

  it('takes a data codec such as ipv4', () => {
    const codec = lpmKey(ipv4);
    expect(roundTrip(codec, { prefixLen: 8, data: '10.1.2.3' })).toEqual({ prefixLen: 8, data: '10.1.2.3' });
    expect(() => roundTrip(codec, { prefixLen: 8, data: '10.1.2' })).toThrow(TypeError);
    expect(() => roundTrip(codec, { prefixLen: 8, data: '10.1.2.256' })).toThrow(TypeError);
  });
});
