import {
  add64,
  call,
  exit,
  jlt,
  label,
  ldMapFd,
  mov32,
  mov64,
  R0,
  R1,
  R2,
  R3,
  R4,
  R5,
  R6,
  R7,
  R10,
  stdw,
  stw,
  stxdw,
} from '@ebpf/asm';
import { openFdCount, requireKernel } from '@ebpf/test-utils';
import { describe, expect, it } from 'vitest';
import { BpfError, ClosedError, InvalidArgumentError } from '../errors.ts';
import { BpfMap } from '../map/index.ts';
import { BpfProgram } from '../program/index.ts';
import { onlineCpus, pageSize } from '../system.ts';
import { PerfBuffer } from './index.ts';

/**
 * An XDP program writing `perRun` samples per run with `bpf_perf_event_output` on the CPU it runs
 * on (a raw_tracepoint one can be run on a chosen CPU): the first `size` bytes (≤ 24) of `{ u64 i, u64 0x5eed, u32 0x04030201, u32 0xffffffff }`.
 */
function producer(
  events: BpfMap<Uint8Array, number>,
  perRun = 1,
  size = 16,
  type: 'xdp' | 'raw_tracepoint' = 'xdp',
): BpfProgram {
  return BpfProgram.load({
    type,
    license: 'GPL',
    maps: { events },
    instructions: [
      mov64(R6, R1),
      mov64(R7, 0),
      label('loop'),
      stxdw(R10, -24, R7),
      stdw(R10, -16, 0x5eed),
      stw(R10, -8, 0x04030201),
      stw(R10, -4, -1),
      mov64(R1, R6),
      ldMapFd(R2, 'events'),
      mov32(R3, -1), // BPF_F_CURRENT_CPU (0xffffffff, zero-extended)
      mov64(R4, R10),
      add64(R4, -24),
      mov64(R5, size),
      call('perf_event_output'),
      add64(R7, 1),
      jlt(R7, perRun, 'loop'),
      mov64(R0, 2),
      exit(),
    ],
  });
}

const packet = new Uint8Array(64);
/** A sample of `size` bytes takes this many bytes of raw data (the kernel pads to 8-byte records). */
const rawSize = (size: number) => ((size + 4 + 7) & ~7) - 4;

requireKernel('PerfBuffer (kernel)', () => {
  describe('consume() and next()', () => {
    it('hands out every sample in place with its CPU, and frees the space', () => {
      using events = BpfMap.create({ type: 'perf_event_array' });
      using prog = producer(events, 4, 24);
      using reader = new PerfBuffer(events, { pageCount: 4 });
      expect(reader.cpus).toEqual(onlineCpus());
      expect(reader.size).toBe(4 * pageSize());
      expect(reader.consume(() => {})).toBe(0);
      prog.run({ data: packet, repeat: 25 });
      const seen: number[] = [];
      const cpus = new Set<number>();
      const n = reader.consume((r, cpu) => {
        cpus.add(cpu);
        expect(r.length).toBe(rawSize(24));
        seen.push(r.u64n(0));
        expect(r.u32(8)).toBe(0x5eed);
        expect(r.u32(16)).toBe(0x04030201);
        expect(r.i32(20)).toBe(-1);
        expect([...r.bytes().subarray(16, 24)]).toEqual([
          ...new Uint8Array(new Uint32Array([0x04030201, -1]).buffer),
        ]);
        expect(() => r.u8(r.length)).toThrow(RangeError);
      });
      expect(n).toBe(100);
      expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i % 4));
      expect(reader.cpus).toEqual(expect.arrayContaining([...cpus]));
      expect(reader.lost).toBe(0);
      expect(reader.consume(() => {})).toBe(0);
    });

    it('reads samples that wrap around the end of a ring whole, wherever the wrap falls', () => {
      using events = BpfMap.create({ type: 'perf_event_array' });
      using prog = producer(events, 50, 24);
      using reader = new PerfBuffer(events, { pageCount: 1 });
      // 40-byte records in a 4,096-byte ring: over 500 of them the end falls in every part of a
      // record (the data, the size word, between records).
      let expected = 0;
      let received = 0;
      for (let round = 0; round < 12; round++) {
        prog.run({ data: packet, repeat: 1 });
        received += reader.consume((r) => {
          expect(r.length).toBe(rawSize(24));
          expect(r.u64n(0)).toBe(expected++ % 50);
          expect(r.u64n(8)).toBe(0x5eed);
          expect(r.u32(16)).toBe(0x04030201);
          expect(r.u32(20)).toBe(0xffffffff);
        });
      }
      expect(received).toBe(600);
      expect(reader.lost).toBe(0);
    });

    it('next() gives { cpu, data } copies, batch by batch', () => {
      using events = BpfMap.create({ type: 'perf_event_array' });
      using prog = producer(events, 3, 16);
      using reader = new PerfBuffer(events, { pageCount: 2 });
      expect(reader.next()).toBeUndefined();
      prog.run({ data: packet, repeat: 2 });
      const got = [reader.next(), reader.next(), reader.next(), reader.next(), reader.next(), reader.next()];
      expect(reader.next()).toBeUndefined();
      for (const [i, sample] of got.entries()) {
        expect(reader.cpus).toContain(sample!.cpu);
        expect(sample!.data.length).toBe(rawSize(16));
        expect(new DataView(sample!.data.buffer).getUint32(0, true)).toBe(i % 3);
        sample!.data[0] = 0xff; // a copy: writable, ours
      }
    });
  });

  describe('a producer that outruns the reader', () => {
    it('accounts for every sample written as received or lost', () => {
      using events = BpfMap.create({ type: 'perf_event_array' });
      using prog = producer(events, 64, 16);
      using reader = new PerfBuffer(events, { pageCount: 1 }); // 4,096 bytes: 128 samples of 32
      let received = 0;
      let produced = 0;
      for (let round = 0; round < 20; round++) {
        prog.run({ data: packet, repeat: 8 }); // 512 samples: most do not fit
        produced += 512;
        received += reader.consume(() => {}, 100); // and the reader takes only some
      }
      received += reader.consume(() => {});
      // The kernel reports a ring's loss with the next sample it can write there: one more on
      // every CPU, then read all.
      using one = producer(events, 1, 16, 'raw_tracepoint');
      for (const cpu of reader.cpus) {
        one.run({ cpu });
        produced += 1;
      }
      received += reader.consume(() => {});
      expect(reader.lost).toBeGreaterThan(0);
      expect(received + reader.lost).toBe(produced);
      expect(reader.lostByCpu.reduce((a, b) => a + b, 0)).toBe(reader.lost);
    });
  });

  describe('waiting', () => {
    it('for await wakes on every sample by default and ends when the map closes', async () => {
      const events = BpfMap.create({ type: 'perf_event_array' });
      using prog = producer(events, 1, 16);
      using reader = new PerfBuffer(events, { pageCount: 2 });
      const timer = setInterval(() => prog.run({ data: packet, repeat: 1 }), 5);
      let n = 0;
      try {
        for await (const sample of reader) {
          expect(sample.data.length).toBe(rawSize(16));
          if (++n === 5) events.close();
        }
      } finally {
        clearInterval(timer);
      }
      expect(n).toBe(5);
      expect(reader.closed).toBe(true);
    });

    it('with a watermark, wakes only once that many bytes are waiting', async () => {
      using events = BpfMap.create({ type: 'perf_event_array' });
      using prog = producer(events, 1, 16); // 32 bytes per sample
      using reader = new PerfBuffer(events, { pageCount: 2, watermark: 1024 });
      let woken = false;
      const waiting = reader.wait().then(() => {
        woken = true;
      });
      prog.run({ data: packet, repeat: 1 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(woken).toBe(false);
      prog.run({ data: packet, repeat: 40 }); // 1,312 bytes on this CPU's ring
      await waiting;
      expect(reader.consume(() => {})).toBe(41);
    });
  });

  describe('options and lifetime', () => {
    it('refuses bad maps and options with what to pass instead', () => {
      using hash = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
      using events = BpfMap.create({ type: 'perf_event_array' });
      expect(() => new PerfBuffer(hash as never)).toThrow(/perf_event_array maps; this is a hash map/);
      expect(() => new PerfBuffer(events, { pageCount: 3 })).toThrow(/power of two/);
      expect(() => new PerfBuffer(events, { pageCount: 1, watermark: 4096 })).toThrow(/watermark/);
      expect(() => new PerfBuffer(events, { cpus: [0, 0] })).toThrow(/distinct CPUs/);
      expect(() => new PerfBuffer(events, { cpus: [9999] })).toThrow(InvalidArgumentError);
      expect(() => new PerfBuffer(events, { cpus: [] })).toThrow(/at least one CPU/);
    });

    it('reads only the CPUs asked for', () => {
      using events = BpfMap.create({ type: 'perf_event_array' });
      using reader = new PerfBuffer(events, { cpus: [0], pageCount: 1 });
      expect(reader.cpus).toEqual([0]);
      expect(reader.lostByCpu[0]).toBe(0);
    });

    it('closes every fd and mapping, with the map too, and refuses re-entry', () => {
      const before = openFdCount();
      const events = BpfMap.create({ type: 'perf_event_array' });
      const prog = producer(events, 2, 16);
      const reader = new PerfBuffer(events, { pageCount: 1 });
      expect(openFdCount()).toBe(before + 3 + reader.cpus.length);
      prog.run({ data: packet, repeat: 1 });
      expect(
        reader.consume(() => {
          expect(() => reader.next()).toThrow(BpfError);
          reader.close();
        }),
      ).toBe(1);
      expect(() => reader.next()).toThrow(ClosedError);
      reader.close();
      const again = new PerfBuffer(events, { pageCount: 1 });
      events.close();
      expect(again.closed).toBe(true);
      prog.close();
      expect(openFdCount()).toBe(before);
    });
  });
});
