import { cNameOf, MapType } from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import { pageSize, possibleCpus } from '../system.ts';
import { findMapType, mapTypes } from './map-types.ts';
import { normalizeSpec } from './spec.ts';

const F_MMAPABLE = 1 << 10;

describe('map type table', () => {
  it('agrees with the generated MapType enum', () => {
    for (const info of Object.values(mapTypes)) {
      expect(cNameOf(MapType, info.type)?.replace(/_DEPRECATED$/, '')).toBe(info.cName);
    }
  });

  it('finds types by name in several spellings and by number', () => {
    expect(findMapType('percpu_hash')?.type).toBe(MapType.PercpuHash);
    expect(findMapType('PercpuHash')?.name).toBe('percpu_hash');
    expect(findMapType('BPF_MAP_TYPE_RINGBUF')?.name).toBe('ringbuf');
    expect(findMapType(MapType.LpmTrie)?.name).toBe('lpm_trie');
    expect(findMapType('toString')).toBeUndefined();
    expect(findMapType(999)).toBeUndefined();
  });
});

describe('spec validation before the syscall', () => {
  it.each([
    [
      { type: 'array', keySize: 8, valueSize: 4, maxEntries: 1 },
      /keySize must be exactly 4 for array maps, got 8/,
    ],
    [{ type: 'hash', keySize: 4, valueSize: 4 }, /maxEntries is required/],
    [{ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 0 }, /maxEntries must be greater than 0/],
    [{ type: 'hash', valueSize: 4, maxEntries: 1 }, /keySize is required/],
    [{ type: 'hash', keySize: 4, maxEntries: 1 }, /valueSize is required/],
    [{ type: 'hash', keySize: 600, valueSize: 4, maxEntries: 1 }, /keySize must be between 1 and 512/],
    [{ type: 'ringbuf', maxEntries: 3 * 4096 }, /power of two and a multiple of the page size/],
    [{ type: 'ringbuf', maxEntries: 1024 }, /power of two and a multiple of the page size/],
    [{ type: 'ringbuf', keySize: 4, maxEntries: 4096 }, /keySize must be exactly 0 .*no keys/],
    [{ type: 'ringbuf', valueSize: 4, maxEntries: 4096 }, /valueSize must be exactly 0/],
    [{ type: 'queue', keySize: 4, valueSize: 4, maxEntries: 4 }, /keySize must be exactly 0/],
    [{ type: 'stack', valueSize: 4, maxEntries: 4, key: 'u32' }, /keySize must be exactly 0/],
    [{ type: 'bloom_filter', keySize: 4, valueSize: 4, maxEntries: 4 }, /keySize must be exactly 0/],
    [{ type: 'bloom_filter', valueSize: 4, maxEntries: 4, mapExtra: 16 }, /hash functions/],
    [{ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 4 }, /innerMap is required/],
    [{ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, innerMap: { fd: 3 } }, /innerMap is only for/],
    [{ type: 'stack_trace', keySize: 4, valueSize: 12, maxEntries: 4 }, /multiple of 8/],
    [{ type: 'lpm_trie', keySize: 4, valueSize: 4, maxEntries: 4 }, /keySize must be between 5 and 260/],
    [
      { type: 'percpu_hash', keySize: 4, valueSize: 40000, maxEntries: 4 },
      /valueSize must be between 1 and 32768/,
    ],
    [{ type: 'task_storage', keySize: 4, valueSize: 4, btf: { fd: 3, keyTypeId: 1 } }, /need BTF for both/],
    [{ type: 'cgroup_storage', keySize: 8, valueSize: 4, maxEntries: 2 }, /maxEntries must be 0/],
    [{ type: 'devmap', keySize: 4, valueSize: 6, maxEntries: 2 }, /valueSize must be one of 4, 8/],
    [
      { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, flags: F_MMAPABLE },
      /MMAPABLE is only for array/,
    ],
    [{ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, flags: 0x80 | 0x100 }, /exclude each other/],
    [{ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, flags: -1 }, /flags must be/],
    [{ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, name: 'this-name-is-too-long' }, /map name/],
    [{ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, name: 'bad name' }, /map name/],
    [
      { type: 'hash', key: 'u32', keySize: 8, valueSize: 4, maxEntries: 1 },
      /key codec u32 is 4 bytes, but keySize is 8/,
    ],
    [{ type: 'hash', key: 'u33', valueSize: 4, maxEntries: 1 }, /unknown codec 'u33'/],
    [{ type: 'hashish', keySize: 4, valueSize: 4, maxEntries: 1 }, /unknown map type "hashish"/],
    [{ type: 'hash', keySize: -1, valueSize: 4, maxEntries: 1 }, /keySize must be an integer/],
    [{ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1.5 }, /maxEntries must be an integer/],
  ])('%j', (spec, message) => {
    expect(() => normalizeSpec(spec as never)).toThrow(InvalidArgumentError);
    expect(() => normalizeSpec(spec as never)).toThrow(message);
  });

  it('fills defaults: sizes from codecs, required flags, per-type max entries', () => {
    const hash = normalizeSpec({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 8 });
    expect([hash.keySize, hash.valueSize, hash.flags]).toEqual([4, 8, 0]);
    expect(normalizeSpec({ type: 'lpm_trie', keySize: 8, valueSize: 4, maxEntries: 8 }).flags & 1).toBe(1);
    expect(normalizeSpec({ type: 'arena', maxEntries: 1 }).flags & F_MMAPABLE).toBe(F_MMAPABLE);
    expect(normalizeSpec({ type: 'perf_event_array' }).maxEntries).toBe(possibleCpus());
    expect(normalizeSpec({ type: 'prog_array', maxEntries: 4 }).valueSize).toBe(4);
    const ring = normalizeSpec({ type: 'ringbuf', maxEntries: pageSize() * 4 });
    expect([ring.keySize, ring.valueSize]).toEqual([0, 0]);
    const numa = normalizeSpec({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, numaNode: 0 });
    expect(numa.flags & 4).toBe(4);
    expect(normalizeSpec({ type: 250, keySize: 4, valueSize: 4, maxEntries: 1 }).typeLabel).toBe(
      'map type 250',
    );
  });

  it('page size and CPU count come from the system', () => {
    expect(pageSize()).toBeGreaterThanOrEqual(4096);
    expect(possibleCpus()).toBeGreaterThanOrEqual(1);
  });
});
