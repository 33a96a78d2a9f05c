import { readFileSync, rmSync } from 'node:fs';
import { openFdCount, requireKernel, skipUnsupported } from '@ebpf/test-utils';
import { describe, expect, it } from 'vitest';
import {
  adoptMap,
  bpf,
  close,
  dup,
  mapDelete,
  mapLookup,
  mapLookupAndDelete,
  mapNextKey,
  mapSizes,
  mapUpdate,
  noop,
  possibleCpus,
  SysError,
} from './index.ts';
import { Attr, BPF, buf, createMap, MapType, trackFds, u32 } from './test/helpers.ts';

const track = trackFds();

const u64 = (n: number): Uint8Array => {
  const b = buf(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
};
const readU64 = (b: Uint8Array, at = 0): number =>
  Number(new DataView(b.buffer, b.byteOffset).getBigUint64(at, true));

requireKernel('map hot paths', () => {
  it('creates a hash map whose sizes join the cache', () => {
    const fd = track(createMap(MapType.Hash, 4, 8, 16));
    expect(fd).toBeGreaterThan(2);
    expect(mapSizes(fd)).toEqual([MapType.Hash, 4, 8]);
  });

  it('updates, looks up, walks and deletes', () => {
    const fd = track(createMap(MapType.Hash, 4, 8, 16));
    const key = u32(7);
    const value = buf(8);
    expect(mapLookup(fd, key, value, 0)).toBe(false);
    mapUpdate(fd, key, u64(1234), 0);
    mapUpdate(fd, u32(9), u64(99), 0);
    expect(mapLookup(fd, key, value, 0)).toBe(true);
    expect(readU64(value)).toBe(1234);
    const keys: number[] = [];
    const next = buf(4);
    let cur: Uint8Array | null = null;
    while (mapNextKey(fd, cur, next)) {
      keys.push(new DataView(next.buffer).getUint32(0, true));
      cur = next.slice();
    }
    expect(keys.sort()).toEqual([7, 9]);
    expect(mapDelete(fd, key)).toBe(true);
    expect(mapDelete(fd, key)).toBe(false);
    expect(mapLookup(fd, key, value, 0)).toBe(false);
  });

  it('returns the noop floor without touching the kernel', () => {
    const fd = track(createMap(MapType.Hash, 4, 8, 16));
    expect(noop(fd, u32(1), buf(8), 0)).toBe(true);
    expect(() => noop(fd, buf(3), buf(8), 0)).toThrow(RangeError);
  });

  it('throws SysError with errno, code, command and hint', () => {
    const fd = track(createMap(MapType.Hash, 4, 8, 16));
    mapUpdate(fd, u32(1), u64(1), 0);
    let error: unknown;
    try {
      mapUpdate(fd, u32(1), u64(2), 1 /* BPF_NOEXIST */);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SysError);
    const e = error as SysError;
    expect(e.errno).toBe(17);
    expect(e.code).toBe('EEXIST');
    expect(e.command).toBe('BPF_MAP_UPDATE_ELEM');
    expect(e.hint).toMatch(/NOEXIST/);
    expect(e.message).toMatch(/^BPF_MAP_UPDATE_ELEM failed: EEXIST/);
    expect(e.name).toBe('SysError');
  });

  it('reports a full map as E2BIG with its meaning', () => {
    const fd = track(createMap(MapType.Hash, 4, 8, 1));
    mapUpdate(fd, u32(1), u64(1), 0);
    expect(() => mapUpdate(fd, u32(2), u64(1), 0)).toThrow(/E2BIG.*full/);
  });

  it('names the argument in TypeError / RangeError', () => {
    const fd = track(createMap(MapType.Hash, 4, 8, 16));
    expect(() => mapLookup(fd, buf(2), buf(8), 0)).toThrow('key must be a Uint8Array of 4 bytes');
    expect(() => mapLookup(fd, u32(1), buf(7), 0)).toThrow('value must be a Uint8Array of 8 bytes');
    expect(() => mapLookup(fd, [1, 2, 3, 4] as never, buf(8), 0)).toThrow(TypeError);
    expect(() => mapLookup(fd, new Uint32Array(1) as never, buf(8), 0)).toThrow(/key must be a Uint8Array/);
    expect(() => mapLookup(-1, u32(1), buf(8), 0)).toThrow(/fd must be a file descriptor/);
    expect(() => mapLookup(1.5, u32(1), buf(8), 0)).toThrow(RangeError);
    expect(() => mapLookup('3' as never, u32(1), buf(8), 0)).toThrow(TypeError);
    expect(() => mapLookup(fd, u32(1), buf(8), -1)).toThrow(/flags/);
    expect(() => mapLookup(0, u32(1), buf(8), 0)).toThrow(/not a map fd known to @ebpf\/sys/);
    expect(() => mapDelete(fd, null)).toThrow(TypeError);
  });

  it('sizes per-CPU values per possible CPU', () => {
    const fd = track(createMap(MapType.PercpuArray, 4, 4, 4));
    const per = 8 * possibleCpus();
    expect(mapSizes(fd)).toEqual([MapType.PercpuArray, 4, per]);
    expect(() => mapLookup(fd, u32(0), buf(per - 1), 0)).toThrow(RangeError);
    const value = buf(per);
    value[0] = 5;
    mapUpdate(fd, u32(0), value, 0);
    const out = buf(per);
    expect(mapLookup(fd, u32(0), out, 0)).toBe(true);
    expect(out[0]).toBe(5);
  });

  it('pops a queue with a null key', () => {
    const fd = track(createMap(MapType.Queue, 0, 8, 4));
    mapUpdate(fd, null, u64(11), 0);
    mapUpdate(fd, null, u64(12), 0);
    const out = buf(8);
    expect(mapLookupAndDelete(fd, null, out, 0)).toBe(true);
    expect(readU64(out)).toBe(11);
    expect(mapLookupAndDelete(fd, null, out, 0)).toBe(true);
    expect(mapLookupAndDelete(fd, null, out, 0)).toBe(false);
  });

  it('forgets sizes on close, asks the kernel again on dup, learns them by adoptMap', () => {
    const fd = createMap(MapType.Hash, 4, 8, 16);
    const copy = track(dup(fd));
    expect(mapSizes(copy)).toEqual([MapType.Hash, 4, 8]);
    close(fd);
    expect(mapSizes(fd)).toBeNull();
    mapUpdate(copy, u32(1), u64(1), 0);
    expect(() => adoptMap(0)).toThrow(/not a BPF map/);
    adoptMap(copy);
    expect(mapSizes(copy)).toEqual([MapType.Hash, 4, 8]);
  });

  it('opens maps by id into the cache', () => {
    const fd = track(createMap(MapType.Array, 4, 16, 2));
    const info = buf(104);
    const a = new Attr(16).u32(0, fd).u32(4, 104);
    bpf(BPF.OBJ_GET_INFO_BY_FD, a.bytes, [8, info]);
    const id = new DataView(info.buffer).getUint32(4, true);
    expect(a.getU32(4)).toBe(104);
    const byId = track(bpf(BPF.MAP_GET_FD_BY_ID, new Attr(16).u32(0, id).bytes, []));
    expect(mapSizes(byId)).toEqual([MapType.Array, 4, 16]);
    expect(() => bpf(BPF.MAP_GET_FD_BY_ID, new Attr(16).u32(0, 0x7fffffff).bytes)).toThrow(
      expect.objectContaining({ code: 'ENOENT', command: 'BPF_MAP_GET_FD_BY_ID' }),
    );
  });

  it('walks with BPF_MAP_LOOKUP_BATCH, counts checked against the buffers', () => {
    const fd = track(createMap(MapType.Hash, 4, 8, 64));
    for (let k = 0; k < 10; k++) mapUpdate(fd, u32(k), u64(k * 10), 0);
    const keys = buf(4 * 16);
    const values = buf(8 * 16);
    const out = buf(4);
    const a = new Attr(56).u32(32, 16).u32(36, fd);
    let got = 0;
    try {
      bpf(BPF.MAP_LOOKUP_BATCH, a.bytes, [0, null, 8, out, 16, keys, 24, values]);
    } catch (e) {
      expect((e as SysError).code).toBe('ENOENT');
    }
    got = a.getU32(32);
    expect(got).toBe(10);
    let sum = 0;
    for (let i = 0; i < got; i++) sum += readU64(values, i * 8);
    expect(sum).toBe(450);
    a.u32(32, 17);
    expect(() => bpf(BPF.MAP_LOOKUP_BATCH, a.bytes, [8, out, 16, keys, 24, values])).toThrow(
      /keys must be a Uint8Array of at least 68 bytes/,
    );
  });

  const bpffs = readFileSync('/proc/mounts', 'utf8').includes(' /sys/fs/bpf bpf ')
    ? undefined
    : 'bpffs is not mounted at /sys/fs/bpf (tools/setup.sh mounts it)';
  it.skipIf(skipUnsupported(bpffs))(
    'pins a map and opens it again into the cache (BPF_OBJ_PIN, BPF_OBJ_GET)',
    () => {
      const fd = track(createMap(MapType.Hash, 8, 16, 4));
      const path = `/sys/fs/bpf/ebpf-sys-test-${process.pid}`;
      const name = new TextEncoder().encode(`${path}\0`);
      try {
        bpf(BPF.OBJ_PIN, new Attr(24).u32(8, fd).bytes, [0, name]);
        const again = track(bpf(BPF.OBJ_GET, new Attr(24).bytes, [0, name]));
        expect(mapSizes(again)).toEqual([MapType.Hash, 8, 16]);
        expect(() => bpf(BPF.OBJ_GET, new Attr(24).bytes, [0, new TextEncoder().encode(path)])).toThrow(
          /pathname must be a NUL-terminated string/,
        );
        expect(() =>
          bpf(BPF.OBJ_GET, new Attr(24).bytes, [0, new TextEncoder().encode(`${path}-none\0`)]),
        ).toThrow(expect.objectContaining({ code: 'ENOENT', hint: 'nothing is pinned at this path' }));
      } finally {
        rmSync(path, { force: true });
      }
    },
  );

  it('closes every fd it opens', () => {
    const before = openFdCount();
    for (let i = 0; i < 20; i++) close(createMap(MapType.Hash, 4, 8, 4));
    expect(openFdCount()).toBe(before);
  });
});

describe('close', () => {
  it('throws SysError EBADF for a closed fd', () => {
    expect(() => close(1_000_000)).toThrow(expect.objectContaining({ code: 'EBADF', command: 'close' }));
  });
});
