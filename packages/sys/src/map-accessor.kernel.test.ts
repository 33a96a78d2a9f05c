/**
 * mapAccessor: the map hot paths bound to one map and to memory of their own. Keys and values are
 * written into the accessor's regions, the call passes only the operation; every call checks that
 * the fd still names a map of the sizes the regions were made for.
 */
import { requireKernel, thrown } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { close, MapAccessSlot as H, MapOp, mapAccessor, possibleCpus } from './index.ts';
import { createMap, trackFds } from './test/helpers.ts';

const track = trackFds();
const HASH = 1;
const PERCPU_ARRAY = 6;
const QUEUE = 22;
const NOEXIST = 1;

requireKernel('mapAccessor', () => {
  it('looks up, updates, deletes and walks a hash map from its own regions', () => {
    const fd = track(createMap(HASH, 4, 8, 64));
    const m = mapAccessor(fd);
    expect([m.key.length, m.value.length, m.nextKey.length, m.header.length]).toEqual([4, 8, 4, 3]);
    const key = new DataView(m.key.buffer, m.key.byteOffset, 4);
    const value = new DataView(m.value.buffer, m.value.byteOffset, 8);
    for (let k = 0; k < 10; k++) {
      key.setUint32(0, k, true);
      value.setBigUint64(0, BigInt(k * 100), true);
      expect(m.access(MapOp.Update)).toBeUndefined();
    }
    key.setUint32(0, 7, true);
    value.setBigUint64(0, 0n, true);
    expect(m.access(MapOp.Lookup)).toBe(true);
    expect(value.getBigUint64(0, true)).toBe(700n);
    // Flags: NOEXIST on a present key fails with EEXIST.
    m.header[H.FlagsLo] = NOEXIST;
    expect(thrown(() => m.access(MapOp.Update))).toMatchObject({ code: 'EEXIST' });
    m.header[H.FlagsLo] = 0;
    expect(m.access(MapOp.Delete)).toBe(true);
    expect(m.access(MapOp.Delete)).toBe(false);
    expect(m.access(MapOp.Lookup)).toBe(false);
    // A walk: the first key with NoKey, then key after key.
    m.header[H.NoKey] = 1;
    const seen: number[] = [];
    const next = new DataView(m.nextKey.buffer, m.nextKey.byteOffset, 4);
    for (let more = m.access(MapOp.NextKey); more; more = m.access(MapOp.NextKey)) {
      seen.push(next.getUint32(0, true));
      m.header[H.NoKey] = 0;
      m.key.set(m.nextKey);
    }
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9]);
    // Lookup-and-delete of a hash key.
    key.setUint32(0, 9, true);
    expect(m.access(MapOp.LookupAndDelete)).toBe(true);
    expect(value.getBigUint64(0, true)).toBe(900n);
    expect(m.access(MapOp.LookupAndDelete)).toBe(false);
  });

  it('pushes and pops a queue without a key', () => {
    const fd = track(createMap(QUEUE, 0, 4, 8));
    const m = mapAccessor(fd);
    expect(m.key.length).toBe(0);
    const value = new DataView(m.value.buffer, m.value.byteOffset, 4);
    for (const v of [5, 6, 7]) {
      value.setUint32(0, v, true);
      m.access(MapOp.Update);
    }
    const popped: number[] = [];
    while (m.access(MapOp.LookupAndDelete)) popped.push(value.getUint32(0, true));
    expect(popped).toEqual([5, 6, 7]);
  });

  it('sizes per-CPU values per possible CPU, 8 bytes each', () => {
    const fd = track(createMap(PERCPU_ARRAY, 4, 4, 4));
    const m = mapAccessor(fd);
    expect(m.value.length).toBe(8 * possibleCpus());
    m.value.fill(1);
    m.access(MapOp.Update);
    m.value.fill(0);
    expect(m.access(MapOp.Lookup)).toBe(true);
    expect(m.value[8 * (possibleCpus() - 1)]).toBe(1);
  });

  it('refuses a closed fd, a reused fd of other sizes and a bad op before the call', () => {
    const fd = createMap(HASH, 4, 8, 4);
    const m = mapAccessor(fd);
    close(fd);
    expect(() => m.access(MapOp.Lookup)).toThrow(/was closed or now names another map/);
    const reused = track(createMap(HASH, 4, 64, 4));
    expect(reused).toBe(fd); // the lowest free number comes back
    expect(() => m.access(MapOp.Update)).toThrow(/now names another map/);
    const fresh = mapAccessor(reused);
    expect(fresh.value.length).toBe(64);
    expect(fresh.access(MapOp.Update)).toBeUndefined();
    for (const op of [-1, 5, 1.5, 'x', undefined]) {
      expect(() => (fresh.access as (op: unknown) => unknown)(op)).toThrow(
        /op must be an integer from 0 to 4/,
      );
    }
    expect(() => mapAccessor(1_000_000)).toThrow(/not a map fd known to @ebpf\/sys/);
    expect(() => mapAccessor(-1)).toThrow(/fd/);
  });

  it('keeps the kernel inside the regions: the value region is all a lookup writes', () => {
    const fd = track(createMap(HASH, 4, 12, 4));
    const m = mapAccessor(fd);
    m.value.fill(0x11);
    m.access(MapOp.Update);
    const whole = new Uint8Array(m.header.buffer);
    whole.fill(0xa5, m.key.byteOffset + 4); // padding, value, next key
    whole.fill(0, m.key.byteOffset, m.key.byteOffset + 4);
    m.header.fill(0);
    expect(m.access(MapOp.Lookup)).toBe(true);
    const valueEnd = m.value.byteOffset + 12;
    expect(whole.subarray(m.value.byteOffset, valueEnd).every((b) => b === 0x11)).toBe(true);
    expect(whole.subarray(valueEnd).every((b) => b === 0xa5)).toBe(true);
    expect(whole.subarray(m.key.byteOffset + 4, m.value.byteOffset).every((b) => b === 0xa5)).toBe(true);
  });
});
