import { describe, expect, it } from 'vitest';
import { AttrBuffer } from './attr-buffer.ts';
import {
  MapCreateAttr,
  MapElemAttr,
  PerfEventAttr,
  ProgInfo,
  ProgLoadAttr,
  TestRunAttr,
} from './generated/layouts.generated.ts';
import type { StructLayout } from './layout.ts';

const u32At = (b: Uint8Array, o: number): number => new DataView(b.buffer, b.byteOffset).getUint32(o, true);

describe('AttrBuffer', () => {
  it('is layout.size bytes with one [offset, null] pair per distinct pointer offset', () => {
    const a = new AttrBuffer(MapElemAttr);
    expect(a.bytes).toHaveLength(MapElemAttr.size);
    // value and nextKey share offset 16: one slot.
    expect(a.pointers).toEqual([8, null, 16, null]);
  });

  it('writes scalars at the layout offsets, little-endian on this host', () => {
    const a = new AttrBuffer(MapCreateAttr);
    a.u32('mapType', 1)
      .u32('keySize', 4)
      .u32('valueSize', 8)
      .u32('maxEntries', 1024)
      .u64('mapExtra', 2 ** 40 + 5);
    expect(u32At(a.bytes, MapCreateAttr.fields.mapType.offset)).toBe(1);
    expect(u32At(a.bytes, MapCreateAttr.fields.maxEntries.offset)).toBe(1024);
    expect(a.getU64('mapExtra')).toBe(2n ** 40n + 5n);
    expect(a.getU64Number('mapExtra')).toBe(2 ** 40 + 5);
    a.u64('mapExtra', 2n ** 64n - 1n);
    expect(a.getU64('mapExtra')).toBe(2n ** 64n - 1n);
    expect(a.getS64('mapExtra')).toBe(-1n);
  });

  it('writes negative 32-bit values as two’s complement', () => {
    const a = new AttrBuffer(MapCreateAttr);
    a.u32('innerMapFd', -1);
    expect(a.getU32('innerMapFd')).toBe(0xffffffff);
    expect(a.getS32('innerMapFd')).toBe(-1);
    a.s32('numaNode', -2);
    expect(a.getS32('numaNode')).toBe(-2);
  });

  it('ties pointer fields to buffers without writing any address, and unties them', () => {
    const a = new AttrBuffer(TestRunAttr);
    const data = new Uint8Array(64);
    const ctx = new Uint32Array(6);
    a.u32('progFd', 7).pointer('dataIn', data).u32('dataSizeIn', data.length).pointer('ctxIn', ctx);
    const off = TestRunAttr.fields.dataIn.offset;
    expect(a.pointers[a.pointers.indexOf(off) + 1]).toBe(data);
    expect(a.getPointer('dataIn')).toBe(data);
    const ctxBytes = a.getPointer('ctxIn')!;
    expect(ctxBytes.buffer).toBe(ctx.buffer);
    expect(ctxBytes.byteLength).toBe(24);
    expect(a.bytes.subarray(off, off + 8)).toEqual(new Uint8Array(8));
    a.pointer('dataIn', null);
    expect(a.getPointer('dataIn')).toBeNull();
    // An address as a number is never accepted, not even by mistake from plain JavaScript.
    expect(() => a.pointer('dataIn', 0x7fff0000 as unknown as Uint8Array)).toThrow(
      'bpf_attr (BPF_PROG_TEST_RUN).dataIn takes a Uint8Array (or another ArrayBuffer view) or null, got number',
    );
    expect(() => a.pointer('dataIn', new ArrayBuffer(8) as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('copies names into bytes fields and zero-pads them', () => {
    const a = new AttrBuffer(ProgLoadAttr);
    a.setBytes('progName', 'xdp_prog');
    expect(new TextDecoder().decode(a.getBytes('progName')).replace(/\0+$/, '')).toBe('xdp_prog');
    a.setBytes('progName', new Uint8Array([65]));
    expect([...a.getBytes('progName')]).toEqual([65, ...new Array(15).fill(0)]);
    expect(() => a.setBytes('progName', 'a_name_longer_than_16')).toThrow(RangeError);
  });

  it.each([
    ['u32', 'mapType', 2 ** 32],
    ['u32', 'mapType', -(2 ** 31) - 1],
    ['u32', 'mapType', 1.5],
    ['u32', 'mapType', Number.NaN],
    ['u32', 'mapType', '1'],
    ['s32', 'numaNode', 2 ** 32],
    ['u64', 'mapExtra', -1],
    ['u64', 'mapExtra', 2 ** 53],
  ])('refuses %s %s = %s with a RangeError naming the field', (method, field, value) => {
    const a = new AttrBuffer(MapCreateAttr) as unknown as Record<string, (n: string, v: unknown) => void>;
    expect(() => a[method]!(field, value)).toThrow(RangeError);
    expect(() => a[method]!(field, value)).toThrow(`bpf_attr (BPF_MAP_CREATE).${field}`);
  });

  it('refuses 8- and 16-bit values out of range and bitfield values wider than the field', () => {
    const a = new AttrBuffer(ProgInfo);
    expect(() => a.u32('gplCompatible', 2)).toThrow('takes an integer from 0 to 1, got 2');
    const insn: StructLayout = {
      name: 'insn',
      size: 8,
      fields: {
        code: { offset: 0, size: 1, type: 'u8' },
        off: { offset: 2, size: 2, type: 's16' },
        dst: { offset: 1, size: 1, type: 'u8', bitOffset: 0, bitSize: 4 },
      },
    };
    const b = new AttrBuffer(insn);
    expect(() => b.u8('code', 256)).toThrow(RangeError);
    expect(() => b.u16('off', 65536)).toThrow(RangeError);
    expect(() => b.u8('dst', 16)).toThrow('insn.dst takes an integer from 0 to 15, got 16');
    b.u8('code', -1).u16('off', -2).u8('dst', 15);
    expect(b.getU8('code')).toBe(255);
    expect(b.getU16('off')).toBe(0xfffe);
    expect(b.getU8('dst')).toBe(15);
  });

  it('reads and writes bitfields inside their unit', () => {
    const a = new AttrBuffer(ProgInfo);
    const f = ProgInfo.fields.gplCompatible;
    expect(f).toMatchObject({ type: 'u32', bitSize: 1 });
    a.u32('gplCompatible', 1);
    expect(a.getU32('gplCompatible')).toBe(1);
    expect(u32At(a.bytes, f.offset)).toBe(1 << (f as { bitOffset: number }).bitOffset);
  });

  it('writes bitfields of a 64-bit unit in the half that holds them', () => {
    const a = new AttrBuffer(PerfEventAttr);
    a.u64('freq', 1).u64('sigtrap', 1).u64('preciseIp', 3);
    const flags = PerfEventAttr.fields.disabled.offset;
    expect(new DataView(a.bytes.buffer).getBigUint64(flags, true)).toBe(
      (1n << 10n) | (1n << 37n) | (3n << 15n),
    );
    expect(a.getU64('preciseIp')).toBe(3n);
    expect(a.getU64('sigtrap')).toBe(1n);
    a.u64('sigtrap', 0);
    expect(a.getU64('freq')).toBe(1n);
    expect(a.getU64('sigtrap')).toBe(0n);
    expect(() => a.u64('freq', 2)).toThrow('struct perf_event_attr.freq takes an integer from 0 to 1, got 2');
  });

  it('reset() zeroes bytes and unties pointers, reusing the same arrays', () => {
    const a = new AttrBuffer(MapElemAttr);
    const { bytes, pointers } = a;
    a.u32('mapFd', 3).pointer('key', new Uint8Array(4)).u64('flags', 2);
    a.reset();
    expect(a.bytes).toBe(bytes);
    expect(a.pointers).toBe(pointers);
    expect(a.bytes.every((b) => b === 0)).toBe(true);
    expect(a.pointers).toEqual([8, null, 16, null]);
  });

  it('rejects at run time what the types reject at compile time', () => {
    const loose = new AttrBuffer(MapElemAttr as StructLayout);
    expect(() => loose.u32('nope', 1)).toThrow('bpf_attr (BPF_MAP_*_ELEM) has no field nope');
    expect(() => loose.u32('key', 1)).toThrow(
      'bpf_attr (BPF_MAP_*_ELEM).key is ptr (8 bytes), not a 32-bit integer',
    );
    expect(() => loose.u64('flags', -1)).toThrow(RangeError);
    expect(() => loose.pointer('mapFd', new Uint8Array(1))).toThrow(
      'bpf_attr (BPF_MAP_*_ELEM).mapFd is not a pointer field',
    );
  });

  it('types accept only fields of the right kind', () => {
    const a = new AttrBuffer(MapElemAttr);
    // @ts-expect-error key is a pointer field: it takes a buffer, never a number
    expect(() => a.u64('key', 1)).toThrow();
    // @ts-expect-error mapFd is not a pointer field
    expect(() => a.pointer('mapFd', new Uint8Array(4))).toThrow();
    // @ts-expect-error flags is 64-bit
    expect(() => a.u32('flags', 1)).toThrow();
    // @ts-expect-error no such field
    expect(() => a.u32('mapfd', 1)).toThrow();
    a.pointer('value', new Uint8Array(8)).u64('flags', 0n).u32('mapFd', 1);
  });
});
