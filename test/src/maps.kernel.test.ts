import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { BpfMap, features } from '@ebpf/core';
import { requireKernel, thrown } from '@ebpf/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { runFixture } from './support/fixture.ts';

/** The error a call throws (fails the test when it does not throw). */

const BPF_F_MMAPABLE = 1 << 10;
const pinDir = `/sys/fs/bpf/ebpf-e2e-maps-${process.pid}`;

/** One valid spec per map type a user can create from user space by name alone. */
const everyType: Array<[string, Record<string, unknown>]> = [
  ['hash', { keySize: 4, valueSize: 8, maxEntries: 16 }],
  ['array', { keySize: 4, valueSize: 8, maxEntries: 16 }],
  ['prog_array', { keySize: 4, valueSize: 4, maxEntries: 4 }],
  ['perf_event_array', { keySize: 4, valueSize: 4, maxEntries: 4 }],
  ['percpu_hash', { keySize: 4, valueSize: 8, maxEntries: 16 }],
  ['percpu_array', { keySize: 4, valueSize: 8, maxEntries: 16 }],
  ['stack_trace', { keySize: 4, valueSize: 8 * 16, maxEntries: 16 }],
  ['cgroup_array', { keySize: 4, valueSize: 4, maxEntries: 4 }],
  ['lru_hash', { keySize: 4, valueSize: 8, maxEntries: 16 }],
  ['lru_percpu_hash', { keySize: 4, valueSize: 8, maxEntries: 16 }],
  ['lpm_trie', { keySize: 8, valueSize: 8, maxEntries: 16 }],
  [
    'array_of_maps',
    {
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
      innerMap: { type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 },
    },
  ],
  [
    'hash_of_maps',
    {
      keySize: 4,
      valueSize: 4,
      maxEntries: 4,
      innerMap: { type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 },
    },
  ],
  ['devmap', { keySize: 4, valueSize: 4, maxEntries: 4 }],
  ['sockmap', { keySize: 4, valueSize: 4, maxEntries: 4 }],
  ['cpumap', { keySize: 4, valueSize: 4, maxEntries: 4 }],
  ['xskmap', { keySize: 4, valueSize: 4, maxEntries: 4 }],
  ['sockhash', { keySize: 4, valueSize: 4, maxEntries: 4 }],
  ['cgroup_storage', { keySize: 8, valueSize: 8, maxEntries: 0 }],
  ['reuseport_sockarray', { keySize: 4, valueSize: 8, maxEntries: 4 }],
  ['percpu_cgroup_storage', { keySize: 8, valueSize: 8, maxEntries: 0 }],
  ['queue', { valueSize: 8, maxEntries: 16 }],
  ['stack', { valueSize: 8, maxEntries: 16 }],
  ['sk_storage', { keySize: 4, valueSize: 8 }],
  ['devmap_hash', { keySize: 4, valueSize: 4, maxEntries: 4 }],
  ['ringbuf', { maxEntries: 4096 }],
  ['inode_storage', { keySize: 4, valueSize: 8 }],
  ['task_storage', { keySize: 4, valueSize: 8 }],
  ['bloom_filter', { valueSize: 8, maxEntries: 16 }],
  ['user_ringbuf', { maxEntries: 4096 }],
  ['cgrp_storage', { keySize: 4, valueSize: 8 }],
  ['arena', { maxEntries: 2 }],
];

requireKernel('BpfMap, as a user of @ebpf/core sees it', () => {
  afterAll(() => rmSync(pinDir, { recursive: true, force: true }));

  describe('every map type the kernel supports, created by its name', () => {
    for (const [type, spec] of everyType) {
      it(type, () => {
        if (!features.mapType(type)) {
          const error = thrown(() => BpfMap.create({ type, ...spec } as never));
          expect(error.name).toBe('NotSupportedError');
          expect(error.message).toContain(type);
          return;
        }
        using map = BpfMap.create({ type, ...spec } as never);
        expect(map.typeName).toBe(type);
        expect(map.info().type).toBe(map.type);
      });
    }

    it('takes the MapType number and other spellings of the name', () => {
      using byNumber = BpfMap.create({ type: 1, keySize: 4, valueSize: 4, maxEntries: 1 });
      expect(byNumber.typeName).toBe('hash');
      using byCName = BpfMap.create({
        type: 'BPF_MAP_TYPE_LRU_HASH' as never,
        keySize: 4,
        valueSize: 4,
        maxEntries: 1,
      });
      expect(byCName.typeName).toBe('lru_hash');
    });

    it('numaNode, name and flags reach the kernel', () => {
      const BPF_F_NUMA_NODE = 1 << 2;
      using map = BpfMap.create({
        type: 'hash',
        keySize: 4,
        valueSize: 4,
        maxEntries: 2,
        numaNode: 0,
        name: 'e2e_numa',
      });
      expect(map.info().flags & BPF_F_NUMA_NODE).toBe(BPF_F_NUMA_NODE);
      expect(map.info().name).toBe('e2e_numa');
    });

    it('maps of maps take an inner map object, and hold maps by fd', () => {
      using inner = BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 4 });
      using outer = BpfMap.create({ type: 'array_of_maps', keySize: 4, maxEntries: 2, innerMap: inner });
      const key = new Uint8Array(4);
      outer.set(key, inner);
      expect(outer.get(key)).toBe(inner.info().id);
      using bad = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4 });
      expect(thrown(() => outer.set(key, bad)).name).toBe('KernelRejectedError');
    });

    it('validates the spec before the syscall, with errors that say what to do', () => {
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ type: 'array', keySize: 8, valueSize: 4, maxEntries: 1 }, /keySize.*4/],
        [{ type: 'ringbuf', maxEntries: 5000 }, /power of two/],
        [{ type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 1 }, /innerMap/],
        [{ type: 'queue', keySize: 4, valueSize: 4, maxEntries: 1 }, /keySize/],
        [{ type: 'no_such_type', keySize: 4, valueSize: 4, maxEntries: 1 }, /unknown map type/],
        [{ type: 'hash', keySize: -1, valueSize: 4, maxEntries: 1 }, /keySize/],
        [{ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, name: 'bad name!' }, /name/],
      ];
      for (const [spec, message] of cases) {
        const error = thrown(() => BpfMap.create(spec as never));
        expect(error.name, JSON.stringify(spec)).toBe('InvalidArgumentError');
        expect(error.message).toMatch(message);
      }
    });
  });

  describe('a JavaScript Map-like interface', () => {
    it('get/set/has/delete with update modes', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 64 });
      expect(map.get(1)).toBeUndefined();
      expect(map.has(1)).toBe(false);
      expect(map.delete(1)).toBe(false);
      map.set(1, 10n);
      expect(map.get(1)).toBe(10n);
      expect(map.has(1)).toBe(true);
      map.set(1, 11n, { flags: 'exist' });
      expect(map.get(1)).toBe(11n);
      expect(thrown(() => map.set(1, 12n, { flags: 'noExist' })).code).toBe('EEXIST');
      expect(thrown(() => map.set(2, 12n, { flags: 'exist' })).code).toBe('ENOENT');
      map.set(2, 12n, { flags: 'noExist' });
      expect(map.delete(1)).toBe(true);
      expect(map.delete(1)).toBe(false);
      expect(map.get(2)).toBe(12n);
      expect(map.set(3, 3n)).toBe(map); // chains, like Map.prototype.set
      // Flags also as a list, as the kernel's bits, and 'lock' (which needs a spin lock in the value).
      map.set(3, 4n, { flags: ['exist'] });
      expect(thrown(() => map.set(3, 5n, { flags: 1 /* BPF_NOEXIST */ })).code).toBe('EEXIST');
      expect(thrown(() => map.set(3, 5n, { flags: ['exist', 'noExist'] })).name).toBe('InvalidArgumentError');
      expect(thrown(() => map.set(3, 5n, { flags: 64 })).name).toBe('InvalidArgumentError');
      const lock = thrown(() => map.set(3, 5n, { flags: 'lock' }));
      expect(lock.name).not.toBe('TypeError');
      expect(lock.code).toBe('EINVAL');
      expect(lock.message).toMatch(/spin_lock/);
    });

    it('keys(), values(), entries() and for...of, even while deleting', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 1024 });
      for (let i = 0; i < 500; i++) map.set(i, i * 2);
      expect([...map.keys()].sort((a, b) => a - b)).toEqual([...Array(500).keys()]);
      expect([...map.values()].reduce((a, b) => a + b, 0)).toBe(499 * 500);
      expect(new Map(map.entries()).get(7)).toBe(14);
      const seen = new Set<number>();
      for (const [key, value] of map) {
        expect(seen.has(key)).toBe(false);
        seen.add(key);
        expect(value).toBe(key * 2);
        map.delete(key); // the current key vanishes: the walk must go on, never twice
        map.delete(key + 1); // and the next one too
      }
      expect(seen.size).toBeGreaterThanOrEqual(250);
      expect([...map]).toEqual([]);
    });

    it('size for arrays, undefined for hashes', () => {
      using array = BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 7 });
      expect(array.size).toBe(7);
      // Array elements always exist: deleting one is a mistake the error explains.
      expect(thrown(() => array.delete(0)).message).toMatch(/cannot be deleted/);
      using hash = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 7 });
      expect(hash.size).toBeUndefined();
    });

    it('queue and stack: push, pop, peek', () => {
      using queue = BpfMap.create({ type: 'queue', value: 'u32', maxEntries: 4 });
      expect(queue.pop()).toBeUndefined();
      expect(queue.peek()).toBeUndefined();
      queue.push(1);
      queue.push(2);
      expect(queue.peek()).toBe(1);
      expect(queue.pop()).toBe(1);
      expect(queue.pop()).toBe(2);
      using stack = BpfMap.create({ type: 'stack', value: 'u32', maxEntries: 4 });
      stack.push(1);
      stack.push(2);
      expect(stack.pop()).toBe(2);
      expect(thrown(() => queue.get(0 as never)).name).toBe('InvalidArgumentError');
    });

    it('LPM trie keys are { prefixLen, data }', () => {
      using routes = BpfMap.create({ type: 'lpm_trie', keySize: 8, value: 'u32', maxEntries: 16 });
      routes.set({ prefixLen: 8, data: new Uint8Array([10, 0, 0, 0]) }, 1);
      routes.set({ prefixLen: 16, data: new Uint8Array([10, 1, 0, 0]) }, 2);
      expect(routes.get({ prefixLen: 32, data: new Uint8Array([10, 1, 2, 3]) })).toBe(2);
      expect(routes.get({ prefixLen: 32, data: new Uint8Array([10, 9, 2, 3]) })).toBe(1);
      expect(routes.get({ prefixLen: 32, data: new Uint8Array([11, 0, 0, 1]) })).toBeUndefined();
      const keys = [...routes.keys()].map((k) => k.prefixLen).sort();
      expect(keys).toEqual([16, 8].sort());
    });

    it('wrong sizes and wrong types are typed errors, not crashes', () => {
      using raw = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
      expect(thrown(() => raw.set(new Uint8Array(3), new Uint8Array(8))).name).toBe('InvalidArgumentError');
      expect(thrown(() => raw.set(new Uint8Array(4), new Uint8Array(9))).name).toBe('InvalidArgumentError');
      expect(thrown(() => raw.get('nope' as never)).name).toBe('InvalidArgumentError');
      expect(
        thrown(() => raw.set(new Uint8Array(4), new Uint8Array(8), { flags: 'bogus' as never })).name,
      ).toBe('InvalidArgumentError');
      using typed = BpfMap.create({ type: 'hash', key: 'u32', value: 'u8', maxEntries: 4 });
      expect(thrown(() => typed.set(-1, 1)).name).toBe('InvalidArgumentError');
      expect(thrown(() => typed.set(1, 256)).name).toBe('InvalidArgumentError');
      expect(thrown(() => typed.set(1.5, 1)).name).toBe('InvalidArgumentError');
      expect(thrown(() => typed.set('1' as never, 1)).name).toBe('InvalidArgumentError');
      using full = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 1 });
      full.set(1, 1);
      const error = thrown(() => full.set(2, 2));
      expect(error.code).toBe('E2BIG');
      expect(error.message).toMatch(/full|maxEntries/);
    });

    it('closed maps throw ClosedError; closing twice is fine', () => {
      const map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 4 });
      map.close();
      map.close();
      for (const op of [
        () => map.get(1),
        () => map.set(1, 1),
        () => map.delete(1),
        () => [...map],
        () => map.info(),
      ]) {
        const error = thrown(op);
        expect(error.name).toBe('ClosedError');
      }
    });
  });

  describe('codecs', () => {
    it('u8..u64 (bigint) and i8..i64', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u64', value: 'i64', maxEntries: 4 });
      map.set(2n ** 64n - 1n, -(2n ** 63n));
      expect(map.get(2n ** 64n - 1n)).toBe(-(2n ** 63n));
      for (const [codec, value] of [
        ['u8', 255],
        ['u16', 65535],
        ['u32', 2 ** 32 - 1],
        ['i8', -128],
        ['i16', -32768],
        ['i32', -(2 ** 31)],
      ] as const) {
        using m = BpfMap.create({ type: 'array', key: 'u32', value: codec, maxEntries: 1 });
        m.set(0, value as never);
        expect(m.get(0)).toBe(value);
      }
    });

    it('structs described in TypeScript, with explicit offsets', async () => {
      const { struct } = await import('@ebpf/core');
      const flow = struct({ saddr: 'u32', dport: 'u16', proto: 'u8' });
      const stats = struct({ packets: ['u64', 0], bytes: ['u64', 8] });
      expect(flow.size).toBe(8);
      using map = BpfMap.create({ type: 'hash', key: flow, value: stats, maxEntries: 8 });
      map.set({ saddr: 0x0a000001, dport: 53, proto: 17 }, { packets: 1n, bytes: 64n });
      expect(map.get({ saddr: 0x0a000001, dport: 53, proto: 17 })).toEqual({ packets: 1n, bytes: 64n });
      expect([...map.keys()]).toEqual([{ saddr: 0x0a000001, dport: 53, proto: 17 }]);
    });

    it('arrays of values', async () => {
      const { array } = await import('@ebpf/core');
      using map = BpfMap.create({ type: 'array', key: 'u32', value: array('u16', 3), maxEntries: 2 });
      map.set(1, [1, 2, 3]);
      expect(map.get(1)).toEqual([1, 2, 3]);
    });

    it('per-CPU maps: one value per possible CPU, 8-byte-rounded layout handled', () => {
      const cpus = Number(execFileSync('nproc', ['--all']).toString()) || 1;
      using map = BpfMap.create({ type: 'percpu_array', key: 'u32', value: 'u32', maxEntries: 2 });
      const values = map.get(0)!;
      expect(values.length).toBeGreaterThanOrEqual(cpus);
      expect(map.valueBufferSize).toBe(8 * values.length);
      const mine = values.map((_, cpu) => cpu + 100);
      map.set(1, mine);
      expect(map.get(1)).toEqual(mine);
      expect(thrown(() => map.set(1, [1])).name).toBe('InvalidArgumentError');
      using hash = BpfMap.create({ type: 'percpu_hash', key: 'u32', value: 'u64', maxEntries: 2 });
      hash.set(7, mine.map(BigInt));
      expect(hash.get(7)).toEqual(mine.map(BigInt));
      expect([...hash.entries()]).toEqual([[7, mine.map(BigInt)]]);
    });
  });

  describe('batches', () => {
    it('setBatch, getBatch, deleteBatch, getAndDeleteBatch on a hash', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 4096 });
      const entries = Array.from({ length: 3000 }, (_, i) => [i, BigInt(i) * 3n] as [number, bigint]);
      expect(map.setBatch(entries)).toBe(3000);
      const read = map.getBatch({ batchSize: 100 });
      expect(read.length).toBe(3000);
      expect(new Map(read).get(2999)).toBe(8997n);
      expect(map.deleteBatch([0, 1, 2])).toBe(3);
      expect(map.get(0)).toBeUndefined();
      const drained = map.getAndDeleteBatch();
      expect(drained.length).toBe(2997);
      expect([...map.keys()]).toEqual([]);
    });

    it('per-CPU batches and arrays', () => {
      using map = BpfMap.create({ type: 'percpu_hash', key: 'u32', value: 'u32', maxEntries: 64 });
      const cpus = map.get(0) === undefined ? map.valueBufferSize / 8 : 0;
      map.setBatch([[1, Array(cpus).fill(5)]]);
      expect(map.getBatch()).toEqual([[1, Array(cpus).fill(5)]]);
      using array = BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 8 });
      array.setBatch([
        [3, 33],
        [4, 44],
      ]);
      expect(array.getBatch().filter(([, v]) => v !== 0)).toEqual([
        [3, 33],
        [4, 44],
      ]);
    });

    it('falls back to single operations where the map type has no batch commands', () => {
      using lpm = BpfMap.create({ type: 'lpm_trie', keySize: 8, value: 'u32', maxEntries: 16 });
      const key = (n: number) => ({ prefixLen: 32, data: new Uint8Array([10, 0, 0, n]) });
      expect(
        lpm.setBatch([
          [key(1), 1],
          [key(2), 2],
        ]),
      ).toBe(2);
      expect(
        lpm
          .getBatch()
          .map(([, v]) => v)
          .sort(),
      ).toEqual([1, 2]);
      expect(lpm.deleteBatch([key(1)])).toBe(1);
      expect(lpm.getAndDeleteBatch().map(([, v]) => v)).toEqual([2]);
    });
  });

  describe('identity', () => {
    it('freeze makes it read-only for user space', () => {
      using map = BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 2 });
      map.set(0, 1);
      map.freeze();
      expect(map.get(0)).toBe(1);
      expect(thrown(() => map.set(0, 2)).code).toBe('EPERM');
    });

    it("info() is the kernel's bpf_map_info", () => {
      using map = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 16, maxEntries: 9, name: 'e2e_info' });
      const info = map.info();
      expect(info).toMatchObject({ keySize: 4, valueSize: 16, maxEntries: 9, name: 'e2e_info' });
      expect(info.id).toBeGreaterThan(0);
      expect(BpfMap.ids()).toContain(info.id);
      expect(BpfMap.list().some((m) => m.id === info.id && m.name === 'e2e_info')).toBe(true);
    });

    it('pin in this process, fromPin in a child process, unpin', () => {
      using map = BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 4, name: 'e2e_pin' });
      map.set(42, 4242n);
      const path = `${pinDir}/counts`;
      map.pin(path);
      const out = JSON.parse(runFixture('open-pinned-map.ts', path));
      expect(out).toMatchObject({ before: '4242', name: 'e2e_pin' });
      expect(out.pid).not.toBe(process.pid);
      expect(map.get(43)).toBe(4343n);
      expect(map.unpin()).toBe(true);
      expect(thrown(() => BpfMap.fromPin(path)).name).toBe('NotFoundError');
    });

    it('fromId, fromFd and clone share the kernel map', () => {
      using map = BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 2 });
      using byId = BpfMap.fromId<number, number>(map.info().id, { key: 'u32', value: 'u32' });
      using byFd = BpfMap.fromFd(map.fd, { key: 'u32', value: 'u32' });
      using clone = map.clone();
      map.set(1, 7);
      expect(byId.get(1)).toBe(7);
      expect(byFd.get(1)).toBe(7);
      expect(clone.get(1)).toBe(7);
      expect(thrown(() => BpfMap.fromId(0x7fffffff)).name).toBe('NotFoundError');
    });
  });

  describe('mmapable arrays', () => {
    it("memory() gives typed views onto the kernel's memory", () => {
      using map = BpfMap.create({
        type: 'array',
        key: 'u32',
        value: 'u64',
        maxEntries: 16,
        flags: BPF_F_MMAPABLE,
      });
      const memory = map.memory();
      memory.u32[2 * 3] = 42;
      expect(map.get(3)).toBe(42n);
      map.set(5, 2n ** 40n);
      expect(memory.u64[5]).toBe(2n ** 40n);
      using plain = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
      expect(thrown(() => plain.memory()).name).toBe('InvalidArgumentError');
    });

    it('the views die with the map', () => {
      const map = BpfMap.create({
        type: 'array',
        key: 'u32',
        value: 'u32',
        maxEntries: 4,
        flags: BPF_F_MMAPABLE,
      });
      const memory = map.memory();
      map.close();
      expect(thrown(() => memory.u32[0]).name).toBe('ClosedError');
    });
  });
});
