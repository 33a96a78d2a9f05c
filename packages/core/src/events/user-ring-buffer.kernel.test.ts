import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { openFdCount, requireKernel } from '@ebpf/test-utils';
import { buildSource, CLANG, requireTools, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClosedError, InvalidArgumentError } from '../errors.ts';
import { BpfMap } from '../map/index.ts';
import { UserRingBuffer } from './index.ts';

/**
 * The drain side is a C object (a syscall program calling `bpf_user_ringbuf_drain` with a
 * callback, which needs the BTF func_info only a compiler gives), loaded by a libbpf loader that
 * reuses the map pinned by the test. Each run prints "sum count drained".
 */
const testdata = `${import.meta.dirname}/testdata`;
const scratch = new Scratch();
let object = '';
let loader = '';

requireKernel('UserRingBuffer (kernel)', () => {
  beforeAll(() => {
    requireTools([CLANG, 'gcc']);
    object = buildSource(scratch, `${testdata}/user-ringbuf-drain.bpf.c`, 'bpfel');
    loader = scratch.path('user-ringbuf-drain');
    execFileSync('gcc', ['-O2', '-o', loader, `${testdata}/user-ringbuf-drain.c`, '-lbpf']);
  });
  afterAll(() => scratch.dispose());

  /** Runs the drain program `runs` times on `map`; returns each run's totals. */
  function drain(map: BpfMap, runs = 1): { sum: number; count: number }[] {
    const pin = `/sys/fs/bpf/ebpf-ts-user-ring-${process.pid}`;
    map.pin(pin);
    try {
      const out = execFileSync(loader, [object, pin, String(runs)], { encoding: 'utf8' });
      return out
        .trim()
        .split('\n')
        .map((line) => {
          const [sum, count] = line.split(' ').map(Number);
          return { sum: sum!, count: count! };
        });
    } finally {
      rmSync(pin);
    }
  }

  const u64 = (value: number, size = 8) => {
    const bytes = new Uint8Array(size);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(value), true);
    return bytes;
  };

  describe('records programs drain', () => {
    it('delivers written records in order, skips discarded ones, and wraps the ring', () => {
      using map = BpfMap.create({ type: 'user_ringbuf', maxEntries: 4096 });
      using ring = new UserRingBuffer(map);
      expect(ring.size).toBe(4096);
      for (let i = 1; i <= 3; i++) expect(ring.write(u64(i))).toBe(true);
      const skipped = ring.reserve(8)!;
      skipped.set(u64(1000));
      ring.discard(skipped);
      expect(ring.pendingBytes).toBe(4 * 16);
      expect(drain(map)).toEqual([{ sum: 6, count: 3 }]);
      expect(ring.pendingBytes).toBe(0);
      // 24-byte records take 32 bytes: 100 of them per round go round the 4,096-byte ring.
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 100; i++) expect(ring.write(u64(i, 24))).toBe(true);
        expect(drain(map)).toEqual([{ sum: 4950, count: 100 }]);
      }
    });

    it('holds records back while an earlier one is still reserved, and refuses when full', () => {
      using map = BpfMap.create({ type: 'user_ringbuf', maxEntries: 4096 });
      using ring = new UserRingBuffer(map);
      const first = ring.reserve(8)!;
      const second = ring.reserve(8)!;
      second.set(u64(2));
      ring.submit(second);
      expect(drain(map)).toEqual([{ sum: 0, count: 0 }]);
      first.set(u64(1));
      ring.submit(first);
      expect(() => ring.submit(first)).toThrow(/once/);
      expect(drain(map)).toEqual([{ sum: 3, count: 2 }]);
      let written = 0;
      while (ring.write(u64(1, 56))) written++;
      expect(written).toBe(4096 / 64);
      expect(ring.reserve(8)).toBeUndefined();
      expect(drain(map)).toEqual([{ sum: written, count: written }]);
      expect(ring.write(u64(1))).toBe(true);
    });
  });

  describe('arguments and lifetime', () => {
    it('refuses bad sizes, foreign records and other maps, and closes with its map', () => {
      const before = openFdCount();
      using hash = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
      expect(() => new UserRingBuffer(hash as never)).toThrow(/user_ringbuf maps; this is a hash map/);
      const map = BpfMap.create({ type: 'user_ringbuf', maxEntries: 4096 });
      const ring = new UserRingBuffer(map);
      expect(() => ring.reserve(0)).toThrow(InvalidArgumentError);
      expect(() => ring.reserve(4096)).toThrow(/1 to 4088 bytes/);
      expect(() => ring.submit(new Uint8Array(8))).toThrow(/reserve\(\) returned/);
      const record = ring.reserve(8)!;
      expect(() => ring.submit(record.subarray(1))).toThrow(InvalidArgumentError);
      map.close();
      expect(ring.closed).toBe(true);
      expect(record.length).toBe(0); // unmapped: the view is detached
      expect(() => ring.reserve(8)).toThrow(ClosedError);
      hash.close();
      expect(openFdCount()).toBe(before);
    });
  });
});
