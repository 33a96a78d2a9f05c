import { existsSync } from 'node:fs';
import { exit, mov64, R0 } from '@ebpf/asm';
import { BtfBuilder } from '@ebpf/btf';
import * as sys from '@ebpf/sys';
import { openFdCount, requireKernel, skipUnsupported } from '@ebpf/test-utils';
import { BtfIntEncoding, MapFlags } from '@ebpf/uapi';
import { afterAll, describe, expect, it } from 'vitest';
import { ipv4, lpmKey, struct } from '../codec/index.ts';
import {
  type BpfError,
  ClosedError,
  InvalidArgumentError,
  KernelRejectedError,
  KeyNotFoundError,
  NotFoundError,
  NotSupportedError,
  PermissionError,
} from '../errors.ts';
import { features } from '../features/index.ts';
import { getPinned } from '../pin.ts';
import { BpfProgram } from '../program/index.ts';
import { BpfMap, MapBatchCursor, possibleCpus } from './index.ts';
import { loadBtf } from './storage-btf.ts';

const F_MMAPABLE = MapFlags.Mmapable;
const F_RDONLY_PROG = MapFlags.RdonlyProg;

/** Why this kernel will not make arenas (6.18 builds refuse them to root with EPERM), if it will not. */
const arenaRefused = features.mapType('arena')
  ? undefined
  : `arena: ${features.probeMapType('arena').reason}`;

let pinCounter = 0;
const pinned: string[] = [];
function pinPath(name: string): string {
  const path = `/sys/fs/bpf/ebpf-ts-test-${process.pid}/${name}-${pinCounter++}`;
  pinned.push(path);
  return path;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** A tiny BTF blob: [1] int, [2] struct bpf_spin_lock { int val }, [3] struct val_t { lock; int v }. */
function loadTestBtf(): number {
  const b = new BtfBuilder();
  const int = b.add({
    kind: 'int',
    name: 'int',
    size: 4,
    encoding: BtfIntEncoding.Signed,
    bitOffset: 0,
    bits: 32,
  });
  const member = (name: string, type: number, bitOffset: number) => ({
    name,
    type,
    bitOffset,
    bitfieldSize: 0,
  });
  const lock = b.add({ kind: 'struct', name: 'bpf_spin_lock', size: 4, members: [member('val', int, 0)] });
  b.add({ kind: 'struct', name: 'val_t', size: 8, members: [member('lock', lock, 0), member('v', int, 32)] });
  return loadBtf(b.marshal());
}

requireKernel('BpfMap (kernel)', () => {
  afterAll(async () => {
    const { rmSync } = await import('node:fs');
    rmSync(`/sys/fs/bpf/ebpf-ts-test-${process.pid}`, { recursive: true, force: true });
  });

  describe('create and element access', () => {
    it('hash map with number codecs: set, get, has, delete', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 16, name: 'counts' });
      expect(map.keySize).toBe(4);
      expect(map.valueSize).toBe(8);
      expect(map.typeName).toBe('hash');
      expect(map.get(1)).toBeUndefined();
      expect(map.has(1)).toBe(false);
      map.set(1, 10n).set(2, 20n);
      expect(map.get(1)).toBe(10n);
      expect(map.has(2)).toBe(true);
      expect(map.delete(1)).toBe(true);
      expect(map.delete(1)).toBe(false);
      expect(map.get(1)).toBeUndefined();
    });

    it('raw Uint8Array keys and values by default, lookupInto without allocation', () => {
      using map = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
      const key = u32(7);
      map.set(key, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
      const got = map.get(key);
      expect(got).toBeInstanceOf(Uint8Array);
      expect([...got!]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const out = new Uint8Array(8);
      expect(map.lookupInto(key, out)).toBe(true);
      expect(out[7]).toBe(8);
      expect(map.lookupInto(u32(8), out)).toBe(false);
      map.update(u32(8), new Uint8Array(8).fill(9));
      expect(map.get(u32(8))![0]).toBe(9);
      expect(map.deleteRaw(u32(8))).toBe(true);
    });

    it('set flags: noExist, exist', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 4 });
      map.set(1, 1, { flags: 'noExist' });
      expect(() => map.set(1, 2, { flags: 'noExist' })).toThrow(/already exists/);
      try {
        map.set(1, 2, { flags: 'noExist' });
      } catch (error) {
        expect((error as BpfError).code).toBe('EEXIST');
      }
      expect(() => map.set(2, 2, { flags: 'exist' })).toThrow(NotFoundError);
      map.set(1, 3, { flags: 'exist' });
      expect(map.get(1)).toBe(3);
      expect(() => map.set(1, 3, { flags: 'sometimes' as 'any' })).toThrow(InvalidArgumentError);
    });

    it('set and get with lock: true on a value holding a bpf_spin_lock (BTF)', () => {
      const btf = loadTestBtf();
      try {
        using map = BpfMap.create({
          type: 'hash',
          key: 'u32',
          value: struct({ lock: 'u32', v: 'u32' }),
          maxEntries: 4,
          btf: { fd: btf, keyTypeId: 1, valueTypeId: 3 },
        });
        map.set(1, { lock: 0, v: 42 }, { lock: true });
        expect(map.get(1, { lock: true })).toEqual({ lock: 0, v: 42 });
      } finally {
        sys.close(btf);
      }
    });

    it('lock on a value without a spin lock is refused by the kernel', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 4 });
      expect(() => map.set(1, 1, { lock: true })).toThrow(InvalidArgumentError);
    });

    it('a full hash map says so', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 2 });
      map.set(1, 1).set(2, 2);
      expect(() => map.set(3, 3)).toThrow(/full/);
    });

    it('getAndDelete', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 4 });
      map.set(5, 50);
      expect(map.getAndDelete(5)).toBe(50);
      expect(map.getAndDelete(5)).toBeUndefined();
    });

    it('struct values', () => {
      const stats = struct({ packets: 'u64n', bytes: 'u64n', flags: 'u32' });
      using map = BpfMap.create({ type: 'hash', key: 'u16', value: stats, maxEntries: 8 });
      expect(map.valueSize).toBe(24);
      map.set(80, { packets: 3, bytes: 1500, flags: 1 });
      expect(map.get(80)).toEqual({ packets: 3, bytes: 1500, flags: 1 });
    });

    it('wrong sizes and wrong value types are rejected before the syscall', () => {
      using raw = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
      expect(() => raw.get(new Uint8Array(3))).toThrow(/key must be 4 bytes/);
      expect(() => raw.set(new Uint8Array(4), new Uint8Array(7))).toThrow(/value must be 8 bytes/);
      expect(() => raw.lookupInto(new Uint8Array(4), new Uint8Array(4))).toThrow(
        /out must be a Uint8Array of 8 bytes/,
      );
      using typed = BpfMap.create({ type: 'hash', key: 'u32', value: 'u8', maxEntries: 4 });
      expect(() => typed.set(-1, 1)).toThrow(InvalidArgumentError);
      expect(() => typed.set(1, 256)).toThrow(/value for hash map/);
      expect(() => typed.set('1' as unknown as number, 1)).toThrow(InvalidArgumentError);
    });

    it('array maps: size is maxEntries, missing indexes are out of range, delete is refused', () => {
      using map = BpfMap.create({ type: 'array', key: 'u32', value: 'u64n', maxEntries: 8 });
      expect(map.size).toBe(8);
      expect(map.get(3)).toBe(0);
      map.set(3, 33);
      expect(map.get(3)).toBe(33);
      expect(map.get(8)).toBeUndefined();
      expect(() => map.set(8, 1)).toThrow(/out of range|E2BIG/);
      expect(() => map.delete(3)).toThrow(/cannot be deleted/);
      map.clear();
      expect(map.get(3)).toBe(0);
    });

    it('closed maps throw ClosedError, close twice is a no-op', () => {
      const map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 4 });
      map.close();
      map.close();
      expect(map.closed).toBe(true);
      expect(() => map.get(1)).toThrow(ClosedError);
      expect(() => map.set(1, 1)).toThrow(ClosedError);
      expect(() => map.info()).toThrow(ClosedError);
      expect(() => [...map.keys()]).toThrow(ClosedError);
      expect(String(map)).toMatch(/closed/);
    });
  });

  describe('create validation', () => {
    it('a type number the kernel does not know is NotSupportedError naming it', () => {
      expect(() => BpfMap.create({ type: 250, keySize: 4, valueSize: 4, maxEntries: 1 })).toThrow(
        NotSupportedError,
      );
      expect(() => BpfMap.create({ type: 250, keySize: 4, valueSize: 4, maxEntries: 1 })).toThrow(
        /map type 250/,
      );
    });

    it('struct_ops without its vmlinux type is NotSupportedError with the reason', () => {
      expect(() => BpfMap.create({ type: 'struct_ops', keySize: 4, valueSize: 8, maxEntries: 1 })).toThrow(
        NotSupportedError,
      );
    });

    it('takes names in several spellings and MapType numbers', () => {
      for (const type of ['lru_hash', 'LruHash', 'BPF_MAP_TYPE_LRU_HASH', 9] as const) {
        using map = BpfMap.create({ type: type as 'lru_hash', keySize: 4, valueSize: 4, maxEntries: 4 });
        expect(map.typeName).toBe('lru_hash');
        expect(map.info().type).toBe(9);
      }
    });
  });

  describe('iteration', () => {
    it('keys, values, entries, forEach and the iterator', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 64 });
      for (let i = 0; i < 50; i++) map.set(i, i * 2);
      expect([...map.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect([...map.values()].reduce((a, b) => a + b, 0)).toBe(2 * 1225);
      const entries = new Map(map);
      expect(entries.get(7)).toBe(14);
      let n = 0;
      map.forEach((v, k) => {
        expect(v).toBe(k * 2);
        n++;
      });
      expect(n).toBe(50);
      expect(map.count()).toBe(50);
      expect(map.size).toBeUndefined();
    });

    it('deleting every key while walking sees each key once', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 1024 });
      for (let i = 0; i < 1000; i++) map.set(i, i);
      const seen: number[] = [];
      for (const k of map.keys()) {
        seen.push(k);
        map.delete(k);
      }
      expect(seen.length).toBe(1000);
      expect(new Set(seen).size).toBe(1000);
      expect(map.count()).toBe(0);
    });

    it('deleting only some keys while walking restarts without repeats and ends', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 1024 });
      for (let i = 0; i < 500; i++) map.set(i, i);
      const seen: number[] = [];
      for (const [k] of map) {
        seen.push(k);
        if (k % 3 === 0) map.delete(k); // the kernel restarts from the first key
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.length).toBe(500);
      expect(map.count()).toBe(500 - 167);
    });

    it('array iteration covers every index', () => {
      using map = BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 5 });
      expect([...map.keys()]).toEqual([0, 1, 2, 3, 4]);
      expect(map.count()).toBe(5);
    });

    it('clear() on index-keyed maps with empty slots ends', () => {
      using devices = BpfMap.create({ type: 'sockmap', key: 'u32', value: 'u32', maxEntries: 8 });
      devices.clear();
      expect(devices.count()).toBe(8);
    });

    it('clear() empties a hash map', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 256 });
      for (let i = 0; i < 200; i++) map.set(i, i);
      map.clear();
      expect(map.count()).toBe(0);
    });
  });

  describe('per-CPU maps', () => {
    const cpus = possibleCpus();

    it('percpu_array reads and writes one value per possible CPU', () => {
      using map = BpfMap.create({ type: 'percpu_array', key: 'u32', value: 'u32', maxEntries: 4 });
      expect(map.perCpu).toBe(true);
      expect(map.valueBufferSize).toBe(8 * cpus);
      const values = Array.from({ length: cpus }, (_, i) => 100 + i);
      map.set(1, values);
      expect(map.get(1)).toEqual(values);
      expect(map.get(0)).toEqual(new Array(cpus).fill(0));
      expect(() => map.set(1, [1])).toThrow(cpus === 1 ? /never/ : /one value per possible CPU/);
    });

    it('percpu_hash with raw values, and lru_percpu_hash with u64', () => {
      using map = BpfMap.create({ type: 'percpu_hash', keySize: 4, valueSize: 3, maxEntries: 4 });
      const values = Array.from({ length: cpus }, (_, i) => Uint8Array.of(i, 2, 3));
      map.set(u32(1), values);
      expect(map.get(u32(1))!.map((v) => [...v])).toEqual(values.map((v) => [...v]));
      using lru = BpfMap.create({ type: 'lru_percpu_hash', key: 'u32', value: 'u64', maxEntries: 4 });
      lru.set(9, new Array(cpus).fill(5n));
      expect(lru.get(9)).toEqual(new Array(cpus).fill(5n));
      const [entry] = [...lru];
      expect(entry).toEqual([9, new Array(cpus).fill(5n)]);
    });

    it('per-CPU slots are 8-byte rounded as the kernel lays them out, not by the codec align', () => {
      // A 12-byte value of 4-byte alignment: packed by its align it would be 12 bytes per CPU.
      const triple = struct({ a: 'u32', b: 'u32', c: 'u32' });
      expect(triple.align).toBe(4);
      using map = BpfMap.create({ type: 'percpu_hash', key: 'u32', value: triple, maxEntries: 4 });
      expect(map.valueBufferSize).toBe(16 * cpus);
      const values = Array.from({ length: cpus }, (_, i) => ({ a: i, b: 10 + i, c: 20 + i }));
      map.set(1, values);
      const raw = new Uint8Array(map.valueBufferSize);
      expect(map.lookupInto(u32(1), raw)).toBe(true);
      const view = new DataView(raw.buffer);
      for (let cpu = 0; cpu < cpus; cpu++) {
        expect([0, 4, 8, 12].map((at) => view.getUint32(cpu * 16 + at, true))).toEqual([
          cpu,
          10 + cpu,
          20 + cpu,
          0,
        ]);
      }
      // Element call, key walk and batch read decode the same kernel layout.
      expect(map.get(1)).toEqual(values);
      expect([...map]).toEqual([[1, values]]);
      expect(map.getBatch()).toEqual([[1, values]]);
    });
  });

  describe('batch operations', () => {
    it('setBatch, getBatch (whole map and with a cursor), deleteBatch, getAndDeleteBatch on a hash map', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u64n', maxEntries: 2048 });
      const entries: [number, number][] = Array.from({ length: 1000 }, (_, i) => [i, i * 3]);
      expect(map.setBatch(entries)).toBe(1000);
      const all = map.getBatch({ batchSize: 64 });
      expect(all.length).toBe(1000);
      expect(new Map(all).get(999)).toBe(2997);
      const cursor = new MapBatchCursor(map.keySize);
      let pages = 0;
      let total = 0;
      while (!cursor.done) {
        total += map.getBatch({ cursor, batchSize: 100 }).length;
        pages++;
      }
      expect(total).toBe(1000);
      expect(pages).toBeGreaterThanOrEqual(10);
      expect(map.deleteBatch(Array.from({ length: 500 }, (_, i) => i))).toBe(500);
      expect(map.count()).toBe(500);
      const taken = map.getAndDeleteBatch();
      expect(taken.length).toBe(500);
      expect(map.count()).toBe(0);
    });

    it('deleteBatch stops at a missing key with KeyNotFoundError naming it (batch and LPM fallback)', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 8 });
      map.setBatch([
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
      expect(() => map.deleteBatch([1, 2, 99, 3])).toThrow(
        expect.objectContaining({
          code: 'ENOENT',
          message: expect.stringMatching(/keys\[2\] is not in the map; the 2 keys before it were deleted/),
        }),
      );
      expect(map.count()).toBe(1);
      expect(() => map.deleteBatch([99])).toThrow(KeyNotFoundError);
      using trie = BpfMap.create({ type: 'lpm_trie', key: lpmKey(ipv4), value: 'u32', maxEntries: 4 });
      trie.set({ prefixLen: 8, data: '10.0.0.0' }, 1);
      expect(() => trie.deleteBatch([{ prefixLen: 16, data: '10.1.0.0' }])).toThrow(
        /keys\[0\] is not in the map/,
      );
    });

    it('lookupBatchInto reads raw entries into caller buffers', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u64n', maxEntries: 4096 });
      map.setBatch(Array.from({ length: 4096 }, (_, i) => [i, i] as [number, number]));
      const keys = new Uint8Array(4 * 1024);
      const values = new Uint8Array(8 * 1024);
      const cursor = new MapBatchCursor(4);
      let total = 0;
      let sum = 0;
      const k32 = new Uint32Array(keys.buffer);
      while (!cursor.done) {
        const n = map.lookupBatchInto(cursor, keys, values);
        for (let i = 0; i < n; i++) sum += k32[i]!;
        total += n;
      }
      expect(total).toBe(4096);
      expect(sum).toBe((4096 * 4095) / 2);
    });

    it('getBatchInto decodes each batch into reused arrays; getAndDeleteBatchInto empties the map', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u64n', maxEntries: 4096 });
      map.setBatch(Array.from({ length: 4096 }, (_, i) => [i, i * 3] as [number, number]));
      const keys: number[] = [];
      const values: number[] = [];
      const cursor = new MapBatchCursor(4);
      const seen = new Set<number>();
      while (!cursor.done) {
        const n = map.getBatchInto(cursor, keys, values, 1000);
        expect(n).toBeLessThanOrEqual(1000);
        for (let i = 0; i < n; i++) {
          expect(values[i]).toBe(keys[i]! * 3);
          seen.add(keys[i]!);
        }
      }
      expect(seen.size).toBe(4096);
      // The count defaults to the arrays' length; bytes keys come as copies.
      using raw = BpfMap.create({ type: 'hash', keySize: 2, valueSize: 1, maxEntries: 8 });
      raw.set(new Uint8Array([1, 2]), new Uint8Array([3]));
      raw.set(new Uint8Array([4, 5]), new Uint8Array([6]));
      const rawKeys = new Array<Uint8Array>(8);
      const rawValues = new Array<Uint8Array>(8);
      const n = raw.getBatchInto(new MapBatchCursor(2), rawKeys, rawValues);
      expect(n).toBe(2);
      const pairs = rawKeys.slice(0, n).map((k, i) => [[...k], [...rawValues[i]!]]);
      expect(pairs.sort()).toEqual([
        [[1, 2], [3]],
        [[4, 5], [6]],
      ]);
      expect(rawKeys[0]!.buffer).not.toBe(rawKeys[1]!.buffer);
      // Taking and deleting, batch by batch.
      const drain = new MapBatchCursor(4);
      let taken = 0;
      while (!drain.done) taken += map.getAndDeleteBatchInto(drain, keys, values, 512);
      expect(taken).toBe(4096);
      expect(map.count()).toBe(0);
      expect(() => map.getBatchInto(cursor, keys, values, 0)).toThrow(/count must be an integer >= 1/);
      expect(() => map.getBatchInto(cursor, 'x' as never, values)).toThrow(/must be arrays/);
    });

    it('array batch update and lookup', () => {
      using map = BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 100 });
      map.setBatch(Array.from({ length: 100 }, (_, i) => [i, i + 1] as [number, number]));
      const all = map.getBatch({ batchSize: 30 });
      expect(all.length).toBe(100);
      expect(all[99]).toEqual([99, 100]);
      expect(() => map.deleteBatch([1])).toThrow(/cannot be deleted/);
    });

    it('per-CPU batch reads', () => {
      const cpus = possibleCpus();
      using map = BpfMap.create({ type: 'percpu_hash', key: 'u32', value: 'u32', maxEntries: 16 });
      map.setBatch([[1, new Array(cpus).fill(7)]]);
      expect(map.getBatch()).toEqual([[1, new Array(cpus).fill(7)]]);
    });

    it('falls back to single operations on types without batch commands (LPM trie)', () => {
      using map = BpfMap.create({ type: 'lpm_trie', key: lpmKey(ipv4), value: 'u32', maxEntries: 16 });
      const keys = [
        { prefixLen: 8, data: '10.0.0.0' },
        { prefixLen: 16, data: '10.1.0.0' },
        { prefixLen: 24, data: '192.168.1.0' },
      ];
      expect(map.setBatch(keys.map((k, i) => [k, i] as const))).toBe(3);
      expect(map.getBatch().length).toBe(3);
      const cursor = new MapBatchCursor(map.keySize);
      expect(map.getBatch({ cursor, batchSize: 2 }).length).toBe(2);
      expect(map.getBatch({ cursor, batchSize: 2 }).length).toBe(1);
      expect(cursor.done).toBe(true);
      expect(map.deleteBatch([keys[0]!])).toBe(1);
      expect(map.getAndDeleteBatch().length).toBe(2);
      expect(map.count()).toBe(0);
    });
  });

  describe('LPM trie, queue, stack, bloom filter', () => {
    it('LPM tries take { prefixLen, data } keys and match the longest prefix', () => {
      using map = BpfMap.create({ type: 'lpm_trie', keySize: 8, valueSize: 4, value: 'u32', maxEntries: 16 });
      map.set({ prefixLen: 8, data: Uint8Array.of(10, 0, 0, 0) }, 8);
      map.set({ prefixLen: 16, data: Uint8Array.of(10, 1, 0, 0) }, 16);
      expect(map.get({ prefixLen: 32, data: Uint8Array.of(10, 1, 2, 3) })).toBe(16);
      expect(map.get({ prefixLen: 32, data: Uint8Array.of(10, 2, 2, 3) })).toBe(8);
      expect(map.get({ prefixLen: 32, data: Uint8Array.of(11, 2, 2, 3) })).toBeUndefined();
      expect([...map.keys()].map((k) => k.prefixLen).sort()).toEqual([16, 8]);
      expect(() => map.set({ prefixLen: 40, data: new Uint8Array(4) }, 1)).toThrow(/prefixLen/);
      expect(map.delete({ prefixLen: 8, data: Uint8Array.of(10, 0, 0, 0) })).toBe(true);
    });

    it('queue: push, peek, pop in FIFO order; full queue; overwrite with exist', () => {
      using q = BpfMap.create({ type: 'queue', value: 'u32', maxEntries: 3 });
      expect(q.pop()).toBeUndefined();
      expect(q.peek()).toBeUndefined();
      q.push(1);
      q.push(2);
      q.push(3);
      expect(() => q.push(4)).toThrow(/full/);
      q.push(4, { flags: 'exist' });
      expect(q.peek()).toBe(2);
      expect([q.pop(), q.pop(), q.pop(), q.pop()]).toEqual([2, 3, 4, undefined]);
      expect(() => q.get(1 as never)).toThrow(/has no keys; use push\(\), pop\(\) and peek\(\)/);
      q.push(9);
      q.clear();
      expect(q.pop()).toBeUndefined();
    });

    it('stack: LIFO order', () => {
      using s = BpfMap.create({ type: 'stack', value: 'u64n', maxEntries: 4 });
      s.push(1);
      s.push(2);
      expect(s.peek()).toBe(2);
      expect([s.pop(), s.pop(), s.pop()]).toEqual([2, 1, undefined]);
    });

    it('push/pop on a hash map is refused', () => {
      using m = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 4 });
      expect(() => m.push(1)).toThrow(/push\(\) is for queue and stack and bloom_filter maps/);
      expect(() => m.pop()).toThrow(InvalidArgumentError);
    });

    it('bloom filter: push and has', () => {
      using bloom = BpfMap.create({ type: 'bloom_filter', value: 'u32', maxEntries: 100, mapExtra: 3 });
      bloom.push(42);
      expect(bloom.has(42)).toBe(true);
      expect(bloom.has(43)).toBe(false);
      expect(bloom.info().mapExtra).toBe(3n);
    });
  });

  describe('object operations', () => {
    it('info() reports what the kernel has', () => {
      using map = BpfMap.create({
        type: 'lru_hash',
        key: 'u32',
        value: 'u64',
        maxEntries: 32,
        name: 'info_test',
      });
      const info = map.info();
      expect(info).toMatchObject({ type: 9, keySize: 4, valueSize: 8, maxEntries: 32, name: 'info_test' });
      expect(info.id).toBeGreaterThan(0);
      expect(map.id).toBe(info.id);
    });

    it('freeze() makes the map read-only for user space', () => {
      using map = BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 2 });
      map.set(0, 5);
      map.freeze();
      expect(() => map.set(0, 6)).toThrow(PermissionError);
      expect(() => map.set(0, 6)).toThrow(/frozen/);
      expect(map.get(0)).toBe(5);
      expect(() => map.freeze()).toThrow(/it is already frozen/);
      expect(() => map.freeze()).toThrow(KernelRejectedError);
    });

    it('pin, fromPin, unpin', () => {
      const path = pinPath('pinned');
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 4 });
      map.set(1, 11);
      map.pin(path);
      expect(existsSync(path)).toBe(true);
      expect(map.pinnedPath).toBe(path);
      expect(() => map.pin(path)).toThrow(/already pinned/);
      {
        using again = BpfMap.fromPin<number, number>(path, { key: 'u32', value: 'u32' });
        expect(again.get(1)).toBe(11);
        expect(again.info().id).toBe(map.info().id);
        expect(again.typeName).toBe('hash');
      }
      {
        using readonly = BpfMap.fromPin<number, number>(path, { key: 'u32', value: 'u32', readonly: true });
        expect(readonly.get(1)).toBe(11);
        expect(() => readonly.set(1, 12)).toThrow(PermissionError);
      }
      expect(map.unpin()).toBe(true);
      expect(existsSync(path)).toBe(false);
      expect(map.unpin()).toBe(false);
      expect(() => BpfMap.fromPin(path)).toThrow(NotFoundError);
    });

    it('pin paths are checked', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 4 });
      expect(() => map.pin('relative/path')).toThrow(/absolute/);
      expect(() => map.pin('/tmp/not-bpffs/map')).toThrow(/not on a BPF file system/);
      expect(() => map.pin('')).toThrow(InvalidArgumentError);
      const path = pinPath('kind');
      map.pin(path);
      expect(() => getPinned(path, 'prog')).toThrow(/holds a map, not a program/);
      const before = openFdCount();
      expect(() => getPinned(path, 'link')).toThrow(InvalidArgumentError);
      expect(openFdCount()).toBe(before);
      map.unpin();
    });

    it('fromFd dups (the caller keeps theirs), fromId, clone', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 4 });
      map.set(3, 30);
      const other = BpfMap.fromFd<number, number>(map.fd, { key: 'u32', value: 'u32' });
      expect(other.fd).not.toBe(map.fd);
      expect(other.get(3)).toBe(30);
      other.close();
      expect(map.get(3)).toBe(30);
      using byId = BpfMap.fromId<number, number>(map.id, { key: 'u32', value: 'u32' });
      expect(byId.get(3)).toBe(30);
      using copy = map.clone();
      expect(copy.get(3)).toBe(30);
      expect(copy.keyCodec).toBe(map.keyCodec);
      expect(() => BpfMap.fromId(0x7ffffff0)).toThrow(NotFoundError);
      expect(() => BpfMap.fromFd(0)).toThrow(/not a BPF map/);
    });

    it('opening refuses codecs of another size than the kernel map (no fd left open)', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 4 });
      using cpuMap = BpfMap.create({ type: 'percpu_array', key: 'u32', value: 'u32', maxEntries: 1 });
      const before = openFdCount();
      expect(() => BpfMap.fromFd(map.fd, { key: 'u32', value: 'u32' })).toThrow(
        /value codec u32 is 4 bytes, but the map's value size is 8/,
      );
      expect(() => BpfMap.fromId(map.id, { key: 'u32', value: struct({ a: 'u64', b: 'u64' }) })).toThrow(
        InvalidArgumentError,
      );
      expect(() => BpfMap.fromFd(map.fd, { key: 'u16' })).toThrow(
        /key codec u16 is 2 bytes, but the map's key size is 4/,
      );
      expect(() => BpfMap.fromFd(cpuMap.fd, { value: 'u64' })).toThrow(/value size \(of one CPU\) is 4/);
      expect(() => BpfMap.fromFd(cpuMap.fd, { value: 'u16' })).toThrow(InvalidArgumentError);
      expect(openFdCount()).toBe(before);
      using right = BpfMap.fromFd<number, number[]>(cpuMap.fd, { key: 'u32', value: 'u32' });
      expect(right.get(0)).toHaveLength(possibleCpus());
    });

    it('clone of a per-CPU map keeps its codec', () => {
      using map = BpfMap.create({ type: 'percpu_array', key: 'u32', value: 'u32', maxEntries: 1 });
      using copy = map.clone();
      expect(copy.get(0)).toEqual(new Array(possibleCpus()).fill(0));
    });

    it('ids() and list() include our map', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 4, name: 'listed' });
      const id = map.id;
      expect(BpfMap.ids()).toContain(id);
      expect(BpfMap.list().find((m) => m.id === id)?.name).toBe('listed');
    });
  });

  describe('mmapable arrays', () => {
    it('freeze() of a map mapped writable says to close the mapping first', () => {
      using map = BpfMap.create({
        type: 'array',
        key: 'u32',
        value: 'u32',
        maxEntries: 4,
        flags: F_MMAPABLE,
      });
      const mem = map.memory();
      expect(() => map.freeze()).toThrow(/cannot be frozen while it is mapped writable/);
      mem.close();
      map.freeze();
      expect(() => map.freeze()).toThrow(/already frozen/);
    });

    it('memory() views and syscalls see the same data', () => {
      using map = BpfMap.create({
        type: 'array',
        key: 'u32',
        value: 'u64n',
        maxEntries: 1000,
        flags: F_MMAPABLE,
      });
      const mem = map.memory();
      expect(mem.elementSize).toBe(8);
      expect(mem.length).toBe(1000);
      mem.u32[2 * 500] = 12345;
      expect(map.get(500)).toBe(12345);
      map.set(7, 2 ** 40 + 3);
      expect(mem.u64[7]).toBe(2n ** 40n + 3n);
      expect(mem.view.getUint32(7 * 8, true)).toBe(3);
      expect([...mem.element(7)]).toEqual([3, 0, 0, 0, 0, 1, 0, 0]);
      expect(map.memory()).toBe(mem);
      const u32 = mem.u32;
      map.close();
      expect(() => mem.u32).toThrow(ClosedError);
      expect(u32.length).toBe(0);
    });

    it('memory() is refused on maps that are not mmapable, and on frozen maps (read-only mappings)', () => {
      using plain = BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 4 });
      expect(() => plain.memory()).toThrow(/not mmapable/);
      using rodata = BpfMap.create({
        type: 'array',
        key: 'u32',
        value: 'u32',
        maxEntries: 4,
        flags: F_MMAPABLE | F_RDONLY_PROG,
      });
      rodata.set(1, 7);
      rodata.freeze();
      expect(() => rodata.memory()).toThrow(/frozen.*read its values with get\(\)/);
      expect(rodata.get(1)).toBe(7);
    });

    it.skipIf(skipUnsupported(arenaRefused, 'arena'))('arena maps: memory() maps its pages', () => {
      using arena = BpfMap.create({ type: 'arena', maxEntries: 4 });
      const mem = arena.memory();
      expect(mem.length).toBe(4);
      expect(mem.buffer.byteLength).toBe(4 * mem.elementSize);
      mem.u32[0] = 0xdeadbeef;
      expect(mem.u32[0]).toBe(0xdeadbeef);
    });
  });

  describe('maps of maps and fd maps', () => {
    it('array_of_maps holds maps; lookups return inner map ids', () => {
      using inner = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 4 });
      using outer = BpfMap.create({ type: 'array_of_maps', key: 'u32', maxEntries: 2, innerMap: inner });
      outer.set(0, inner);
      expect(outer.get(0)).toBe(inner.id);
      expect(outer.get(1)).toBeUndefined();
      expect(outer.delete(0)).toBe(true);
    });

    it('hash_of_maps with an inner map spec', () => {
      using outer = BpfMap.create({
        type: 'hash_of_maps',
        key: 'u32',
        maxEntries: 2,
        innerMap: { type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 },
      });
      using inner = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
      outer.set(5, inner.fd);
      expect(outer.get(5)).toBe(inner.id);
      using wrong = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
      expect(() => outer.set(6, wrong)).toThrow(KernelRejectedError);
      expect(() => outer.set(6, wrong)).toThrow(
        /must match the outer map's inner map template: same type, key size/,
      );
    });
  });

  describe('program arrays', () => {
    it('prog_array holds programs; lookups return program ids; batch reads of maps of maps', () => {
      using prog = BpfProgram.load({ type: 'xdp', license: 'GPL', instructions: [mov64(R0, 2), exit()] });
      using progs = BpfMap.create({ type: 'prog_array', key: 'u32', maxEntries: 4 });
      progs.set(2, prog);
      expect(progs.get(2)).toBe(prog.info().id);
      expect(progs.get(1)).toBeUndefined();
      expect([...progs]).toEqual([[2, prog.info().id]]);
      expect(progs.delete(2)).toBe(true);
      expect(progs.delete(2)).toBe(false);
      expect(() => progs.set(0, 12345)).toThrow(
        /holds programs, but the value \(fd 12345\) is not a BPF object/,
      );
      progs.set(0, prog);
      using other = BpfProgram.load({
        type: 'socket_filter',
        license: 'GPL',
        instructions: [mov64(R0, 0), exit()],
      });
      expect(() => progs.set(1, other)).toThrow(KernelRejectedError);
      expect(() => progs.set(1, other)).toThrow(/refused the program .*programs of one type/);

      using inner = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
      using maps = BpfMap.create({ type: 'hash_of_maps', key: 'u32', maxEntries: 4, innerMap: inner });
      maps.set(1, inner).set(2, inner);
      expect(() => progs.set(1, inner)).toThrow(InvalidArgumentError);
      expect(() => progs.set(1, inner)).toThrow(/holds programs, but the value \(fd \d+\) is a BPF map/);
      expect(() => maps.set(3, prog)).toThrow(/holds maps, but the value \(fd \d+\) is a BPF program/);
      expect(() => maps.update(new Uint8Array(4), new Uint8Array(new Uint32Array([prog.fd]).buffer))).toThrow(
        InvalidArgumentError,
      );
      expect(maps.getBatch().sort()).toEqual([
        [1, inner.id],
        [2, inner.id],
      ]);
    });
  });

  describe('every map type in the table', () => {
    const cases: [string, object][] = [
      ['hash', { keySize: 4, valueSize: 4, maxEntries: 1 }],
      ['array', { keySize: 4, valueSize: 4, maxEntries: 1 }],
      ['prog_array', { maxEntries: 1 }],
      ['perf_event_array', {}],
      ['percpu_hash', { keySize: 4, valueSize: 4, maxEntries: 1 }],
      ['percpu_array', { keySize: 4, valueSize: 4, maxEntries: 1 }],
      ['stack_trace', { keySize: 4, valueSize: 8 * 127, maxEntries: 1 }],
      ['cgroup_array', { maxEntries: 1 }],
      ['lru_hash', { keySize: 4, valueSize: 4, maxEntries: 1 }],
      ['lru_percpu_hash', { keySize: 4, valueSize: 4, maxEntries: 1 }],
      ['lpm_trie', { keySize: 8, valueSize: 4, maxEntries: 1 }],
      [
        'array_of_maps',
        { maxEntries: 1, innerMap: { type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 } },
      ],
      [
        'hash_of_maps',
        { keySize: 4, maxEntries: 1, innerMap: { type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 } },
      ],
      ['devmap', { keySize: 4, valueSize: 4, maxEntries: 1 }],
      ['sockmap', { keySize: 4, valueSize: 4, maxEntries: 1 }],
      ['cpumap', { keySize: 4, valueSize: 4, maxEntries: 1 }],
      ['xskmap', { keySize: 4, valueSize: 4, maxEntries: 1 }],
      ['sockhash', { keySize: 4, valueSize: 4, maxEntries: 1 }],
      ['cgroup_storage', { keySize: 16, valueSize: 4 }],
      ['reuseport_sockarray', { keySize: 4, valueSize: 4, maxEntries: 1 }],
      ['percpu_cgroup_storage', { keySize: 8, valueSize: 4 }],
      ['queue', { valueSize: 4, maxEntries: 1 }],
      ['stack', { valueSize: 4, maxEntries: 1 }],
      ['devmap_hash', { keySize: 4, valueSize: 4, maxEntries: 1 }],
      ['ringbuf', { maxEntries: 4096 }],
      ['bloom_filter', { valueSize: 4, maxEntries: 1 }],
      ['user_ringbuf', { maxEntries: 4096 }],
    ];
    it.each(cases)('%s', (type, spec) => {
      using map = BpfMap.create({ type, ...spec } as never);
      expect(map.typeName).toBe(type);
      expect(map.info().type).toBe(map.type);
    });

    it('arena where the kernel allows it; else NotSupportedError saying why', () => {
      if (arenaRefused === undefined) {
        using map = BpfMap.create({ type: 'arena', maxEntries: 1 });
        expect(map.info().type).toBe(map.type);
        return;
      }
      const refused = (() => {
        try {
          BpfMap.create({ type: 'arena', maxEntries: 1 });
        } catch (error) {
          return error;
        }
      })();
      expect(refused).toBeInstanceOf(NotSupportedError);
      expect(String(refused)).toMatch(/map type arena is not supported.*EPERM although privileged/);
    });

    it.each(['sk_storage', 'inode_storage', 'task_storage', 'cgrp_storage'])(
      '%s without BTF (an int key and a byte-array value are described for it)',
      (type) => {
        try {
          using map = BpfMap.create({ type, keySize: 4, valueSize: 24 } as never);
          expect(map.typeName).toBe(type);
          expect(map.info().btfValueTypeId).toBeGreaterThan(0);
        } catch (error) {
          expect(error).toBeInstanceOf(NotSupportedError);
          expect((error as NotSupportedError).feature).toBe(`map type ${type}`);
        }
      },
    );

    it.each(['sk_storage', 'inode_storage', 'task_storage', 'cgrp_storage'])('%s (with BTF)', (type) => {
      const btf = loadTestBtf();
      try {
        using map = BpfMap.create({
          type,
          keySize: 4,
          valueSize: 4,
          btf: { fd: btf, keyTypeId: 1, valueTypeId: 1 },
        } as never);
        expect(map.typeName).toBe(type);
        expect(map.info().btfValueTypeId).toBe(1);
      } catch (error) {
        // inode storage needs CONFIG_BPF_LSM: then the answer must be the typed error naming it.
        expect(error).toBeInstanceOf(NotSupportedError);
        expect((error as NotSupportedError).feature).toBe(`map type ${type}`);
      } finally {
        sys.close(btf);
      }
    });
  });

  describe('fd ownership', () => {
    const N = 20_000;

    async function collect(gc: () => void): Promise<void> {
      for (let i = 0; i < 10; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }

    it(`creating and closing ${N} maps leaks no fd (close, using, and the GC)`, async () => {
      const { setFlagsFromString } = await import('node:v8');
      const { runInNewContext } = await import('node:vm');
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as () => void;
      const start = openFdCount();
      for (let i = 0; i < N; i++) {
        const map = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
        map.close();
      }
      expect(openFdCount()).toBe(start);
      for (let i = 0; i < N; i++) {
        using map = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
        void map;
      }
      expect(openFdCount()).toBe(start);
      // Dropped without close(): the finalizer closes them. RLIMIT_NOFILE may be near 20,000, so
      // drop them in waves of 5,000 and let the collector catch up between waves.
      for (let wave = 0; wave < N / 5_000; wave++) {
        (() => {
          for (let i = 0; i < 5_000; i++)
            BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
        })();
        expect(openFdCount()).toBeGreaterThan(start);
        await collect(gc);
        expect(openFdCount()).toBe(start);
      }
    }, 120_000);
  });
});
