import { openFdCount, requireKernel } from '@ebpf/test-utils';
import { describe, expect, it } from 'vitest';
import { BpfError, ClosedError, InvalidArgumentError } from '../errors.ts';
import { BpfMap } from '../map/index.ts';
import { onlineCpus, pageSize } from '../system.ts';
import { packet, perfProducer, sampleCodec } from './events.fixtures.ts';
import { PerfBuffer, RecordTooShortError } from './index.ts';

/** A sample of `size` bytes takes this many bytes of raw data (the kernel pads to 8-byte records). */
const rawSize = (size: number) => ((size + 4 + 7) & ~7) - 4;

requireKernel('PerfBuffer (kernel)', () => {
  describe('consume() and next()', () => {
    it('hands out every sample in place with its CPU, and frees the space', () => {
      using events = BpfMap.create({ type: 'perf_event_array' });
      using prog = perfProducer(events, 4, 24);
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
      using prog = perfProducer(events, 50, 24);
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
      using prog = perfProducer(events, 3, 16);
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
      using prog = perfProducer(events, 64, 16);
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
      using one = perfProducer(events, 1, 16, 'raw_tracepoint');
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
      using prog = perfProducer(events, 1, 16);
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

    it('batches() yields the waiting samples in arrays and ends when the reader closes', async () => {
      using events = BpfMap.create({ type: 'perf_event_array' });
      using prog = perfProducer(events, 5, 16);
      const reader = new PerfBuffer(events, { pageCount: 2 });
      prog.run({ data: packet, repeat: 2 });
      setTimeout(() => prog.run({ data: packet, repeat: 1 }), 20);
      const sizes: number[] = [];
      let values: number[] = [];
      for await (const samples of reader.batches(4)) {
        sizes.push(samples.length);
        values = values.concat(
          samples.map((s) => new DataView(s.data.buffer, s.data.byteOffset).getUint32(0, true)),
        );
        if (values.length === 15) reader.close();
      }
      expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
      expect(values).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    });

    it('with a watermark, wakes only once that many bytes are waiting', async () => {
      using events = BpfMap.create({ type: 'perf_event_array' });
      using prog = perfProducer(events, 1, 16); // 32 bytes per sample
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
      const prog = perfProducer(events, 2, 16);
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

  describe('typed decode', () => {
    const whole = (i: number) => ({ i, seed: 0x5eed, magic: 0x04030201, minusOne: -1 });

    it('decodes each (padded) sample with a codec, in consume() and in for await ... of decoded()', async () => {
      using events = BpfMap.create({ type: 'perf_event_array' });
      using prog = perfProducer(events, 3, 24);
      using reader = new PerfBuffer(events, { pageCount: 1 });
      prog.run({ data: packet, repeat: 1 });
      const seen: unknown[] = [];
      expect(reader.consume((r) => seen.push(r.decode(sampleCodec)))).toBe(3);
      expect(seen).toEqual([0, 1, 2].map(whole));
      // Rounds of 60 samples of 40 bytes in a 4,096-byte ring: the ring's end falls inside some.
      for (let round = 0; round < 4; round++) {
        prog.run({ data: packet, repeat: 20 });
        const decoded: unknown[] = [];
        for await (const e of reader.decoded(sampleCodec)) if (decoded.push(e) === 60) break;
        expect(decoded).toEqual(Array.from({ length: 60 }, (_, i) => whole(i % 3)));
      }
      expect(reader.lost).toBe(0);
    });

    it('refuses a sample shorter than the codec with the sizes, after the samples before it', async () => {
      using events = BpfMap.create({ type: 'perf_event_array' });
      using full = perfProducer(events, 1, 24, 'raw_tracepoint');
      using short = perfProducer(events, 1, 8, 'raw_tracepoint');
      using reader = new PerfBuffer(events, { pageCount: 1, cpus: [0] });
      for (const producer of [full, short, full]) producer.run({ cpu: 0 });
      const samples = reader.decoded(sampleCodec);
      expect(await samples.next()).toEqual({ value: whole(0), done: false });
      const error = await samples.next().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RecordTooShortError);
      // 8 bytes of data padded to 12 by the kernel: still short of the struct's 24.
      expect(error).toMatchObject({ length: 12, size: 24 });
      expect(await samples.next()).toEqual({ value: whole(0), done: false });
      expect(reader.next()).toBeUndefined();
    });
  });
});
