import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import {
  add64,
  call,
  exit,
  type Instruction,
  jeq,
  label,
  ldMapFd,
  mov64,
  R0,
  R1,
  R2,
  R3,
  R4,
  R10,
  stdw,
} from '@ebpf/asm';
import { openFdCount, requireKernel, thrown } from '@ebpf/test-utils';
import { describe, expect, it } from 'vitest';
import { BpfError, ClosedError, InvalidArgumentError } from '../errors.ts';
import { BpfMap } from '../map/index.ts';
import { BpfProgram } from '../program/index.ts';
import { packet, ringProducer, sampleCodec } from './events.fixtures.ts';
import { RecordTooShortError, RingBuffer, type RingRecord } from './index.ts';

/**
 * Instructions reserving `size` bytes of `events`, writing `first` as the record's first u64 and
 * handing it to `finish`; they jump to 'out' when the ring is full.
 */
const reserved = (size: number, first: number, finish: 'ringbuf_submit' | 'ringbuf_discard') => [
  ldMapFd(R1, 'events'),
  mov64(R2, size),
  mov64(R3, 0),
  call('ringbuf_reserve'),
  jeq(R0, 0, 'out'),
  stdw(R0, 0, first),
  mov64(R1, R0),
  mov64(R2, 0),
  call(finish),
];

/** An XDP program writing to `events` with `body`, then passing the packet ('out' is its end). */
function xdpWriter(events: BpfMap, body: Instruction[]): BpfProgram {
  return BpfProgram.load({
    type: 'xdp',
    license: 'GPL',
    maps: { events },
    instructions: [...body, label('out'), mov64(R0, 2), exit()],
  });
}

/** An XDP program reserving a 16-byte record and discarding it, then outputting { u64 9 }. */
function discarder(events: BpfMap): BpfProgram {
  return xdpWriter(events, [
    ...reserved(16, 1, 'ringbuf_discard'),
    stdw(R10, -8, 9),
    ldMapFd(R1, 'events'),
    mov64(R2, R10),
    add64(R2, -8),
    mov64(R3, 8),
    mov64(R4, 0),
    call('ringbuf_output'),
  ]);
}

/** An XDP program committing one record of `size` bytes whose first u64 is 7 (the rest unwritten). */
function bigRecord(events: BpfMap, size: number): BpfProgram {
  return xdpWriter(events, reserved(size, 7, 'ringbuf_submit'));
}

const isLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** The u64 (as a number) and the u32 at `offset` of a record `next()` gave, in host order. */
const n64 = (b: Uint8Array, offset: number) =>
  Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(offset, isLittle));
const n32 = (b: Uint8Array, offset: number) =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(offset, isLittle);

/**
 * Node arguments for a child running `source` (an ES module) on the workspace sources. It runs in
 * the repo's `test/` package, which has tsx and `@ebpf/asm`; `@core` and `@sys` stand for the
 * sources of this package and of `@ebpf/sys`.
 */
function childArgs(source: string): [string[], { cwd: string }] {
  const core = pathToFileURL(`${import.meta.dirname}/../index.ts`).href;
  const sys = pathToFileURL(`${import.meta.dirname}/../../../sys/src/index.ts`).href;
  const code = source.replaceAll('@core', core).replaceAll('@sys', sys);
  return [
    ['--conditions=@ebpf/source', '--import', 'tsx', '--input-type=module', '-e', code],
    { cwd: `${import.meta.dirname}/../../../../test` },
  ];
}

/** Runs `source` in a child (see `childArgs`) and returns how it ended. */
function child(source: string) {
  const [args, options] = childArgs(source);
  const run = spawnSync(process.execPath, args, { ...options, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr };
}

requireKernel('RingBuffer (kernel)', () => {
  describe('consume() and the record facade', () => {
    it('hands out every record in place, round-trips its bytes, and frees the space', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = ringProducer(events, 4, 24);
      using reader = new RingBuffer(events);
      expect(reader.size).toBe(4096);
      expect(reader.consume(() => {})).toBe(0);
      prog.run({ data: packet, repeat: 25 }); // 100 records of 8 + 24 bytes: 3,200 of 4,096
      expect(reader.available).toBe(100 * 32);
      const seen: number[] = [];
      let n = reader.consume((r) => {
        expect(r.length).toBe(24);
        seen.push(r.u64n(0));
        expect(r.u64(0)).toBe(BigInt(seen.at(-1)!));
        expect(r.i64(0)).toBe(BigInt(seen.at(-1)!));
        expect(r.u32(8)).toBe(0x5eed);
        expect(r.u16(8)).toBe(0x5eed);
        expect(r.u8(8)).toBe(0xed);
        expect(r.u32(16)).toBe(0x04030201);
        expect(r.i32(20)).toBe(-1);
        expect(r.u32(20)).toBe(0xffffffff);
        // Unaligned reads (offset 17 is odd): the host's byte order, like the typed arrays.
        expect(r.u16(17)).toBe(isLittle ? 0x0302 : 0x0203);
        expect(r.u32(17)).toBe(isLittle ? 0xff040302 : 0x020304ff);
        expect(r.u64n(16)).toBe(
          isLittle ? 0xffffffff * 2 ** 32 + 0x04030201 : 0x04030201 * 2 ** 32 + 0xffffffff,
        );
        const f = new Float64Array(r.bytes().buffer, 8, 1)[0];
        expect(Object.is(r.f64(8), f)).toBe(true);
        const bytes = r.bytes();
        expect(bytes).toBeInstanceOf(Uint8Array);
        expect([...bytes.subarray(16)]).toEqual(
          [1, 2, 3, 4, 255, 255, 255, 255].map((b, i) =>
            isLittle ? b : [4, 3, 2, 1, 255, 255, 255, 255][i]!,
          ),
        );
        const target = new Uint8Array(30);
        expect(r.copyTo(target, 6)).toBe(24);
        expect([...target.subarray(6)]).toEqual([...bytes]);
      }, 60);
      expect(n).toBe(60);
      n += reader.consume((r) => {
        seen.push(r.u64n(0));
      });
      expect(n).toBe(100);
      expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i % 4));
      expect(reader.available).toBe(0);
    });

    it('reads records that wrap around the end of the ring whole', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = ringProducer(events, 1, 24);
      using reader = new RingBuffer(events);
      // 32 bytes per record: 3 runs of 50 (1,600 bytes each) cross the 4,096-byte end.
      let total = 0;
      for (let round = 0; round < 6; round++) {
        prog.run({ data: packet, repeat: 50 });
        let sum = 0;
        expect(
          reader.consume((r) => {
            sum += r.u32(8) + r.u32(16) + r.u32(20);
            const copy = new Uint8Array(24);
            r.copyTo(copy);
            expect(new DataView(copy.buffer).getUint32(8, isLittle)).toBe(0x5eed);
          }),
        ).toBe(50);
        expect(sum).toBe(50 * (0x5eed + 0x04030201 + 0xffffffff));
        total += 50;
      }
      expect(total * 32).toBeGreaterThan(2 * 4096);
      // Records of 16 bytes after records of 32: the positions are no longer aligned alike.
      using small = ringProducer(events, 7, 12);
      small.run({ data: packet, repeat: 20 }); // 140 × 24 bytes: fits, and wraps again
      const values: number[] = [];
      expect(reader.consume((r) => values.push(r.length === 12 ? r.u64n(0) : -1))).toBe(140);
      expect(values).toEqual(Array.from({ length: 140 }, (_, i) => i % 7));
    });

    it('walks thousands of records in one call and honours limit across its chunks', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 1 << 17 });
      using prog = ringProducer(events, 64, 16);
      using reader = new RingBuffer(events);
      prog.run({ data: packet, repeat: 50 }); // 3,200 records of 24 bytes
      let sum = 0;
      expect(reader.consume((r) => (sum += r.u64n(0)), 2500)).toBe(2500);
      expect(reader.available).toBe(700 * 24);
      expect(reader.consume((r) => (sum += r.u64n(0)))).toBe(700);
      expect(sum).toBe(50 * 2016);
      expect(reader.consume(() => {}, 0)).toBe(0);
    });

    it('skips discarded records', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = discarder(events);
      using reader = new RingBuffer(events);
      prog.run({ data: packet, repeat: 10 });
      expect(reader.available).toBe(10 * (24 + 16)); // discarded space is consumed too
      const lengths: number[] = [];
      expect(reader.consume((r) => lengths.push(r.length, r.u64n(0)))).toBe(10);
      expect(lengths).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 ? 9 : 8)));
      expect(reader.available).toBe(0);
      prog.run({ data: packet, repeat: 3 });
      expect([reader.next(), reader.next(), reader.next(), reader.next()].map((b) => b?.length)).toEqual([
        8,
        8,
        8,
        undefined,
      ]);
    });

    it('stops at records still being written (BUSY) and delivers each record once, intact', async () => {
      // A producer in a worker thread fills the ring while this thread drains it: the reader
      // meets records whose header still has the BUSY bit and must stop there and come back.
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 1 << 16 });
      using reader = new RingBuffer(events);
      const runs = 2000; // 2000 × 64 records of 24 bytes: 47 × the ring (records are dropped when full)
      const producerScript = `
        import { BpfMap, BpfProgram } from '@core';
        import * as asm from '@ebpf/asm';
        const events = BpfMap.fromId(${events.info().id});
        const prog = BpfProgram.load({ type: 'xdp', license: 'GPL', maps: { events }, instructions: [
          asm.mov64(asm.R6, 0), asm.label('loop'), asm.stxdw(asm.R10, -24, asm.R6), asm.stdw(asm.R10, -16, 0x5eed),
          asm.ldMapFd(asm.R1, 'events'), asm.mov64(asm.R2, asm.R10), asm.add64(asm.R2, -24), asm.mov64(asm.R3, 16),
          asm.mov64(asm.R4, 0), asm.call('ringbuf_output'), asm.add64(asm.R6, 1), asm.jlt(asm.R6, 64, 'loop'),
          asm.mov64(asm.R0, 2), asm.exit()] });
        for (let i = 0; i < ${runs}; i++) prog.run({ data: new Uint8Array(64), repeat: 1 });
      `;
      const { spawn } = await import('node:child_process');
      const [args, options] = childArgs(producerScript);
      const proc = spawn(process.execPath, args, { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      proc.stderr.on('data', (d) => (stderr += d));
      const done = new Promise<number | null>((resolve) => proc.on('exit', resolve));
      let finished = false;
      void done.then(() => (finished = true));
      let count = 0;
      let bad = 0;
      const check = (r: RingRecord) => {
        if (r.length !== 16 || r.u64n(8) !== 0x5eed || r.u64n(0) > 63) bad++;
        count++;
      };
      while (!finished) {
        reader.consume(check);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      reader.consume(check);
      expect(await done, stderr).toBe(0);
      expect(bad).toBe(0);
      expect(count).toBeGreaterThan(0);
      expect(count).toBeLessThanOrEqual(runs * 64);
      expect(reader.available).toBe(0);
    }, 120_000);

    it('bounds-checks every read: RangeError outside the record, and after the callback', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = ringProducer(events, 1, 12);
      using reader = new RingBuffer(events);
      prog.run({ data: packet, repeat: 1 });
      let kept: RingRecord | undefined;
      reader.consume((r) => {
        kept = r;
        expect(r.length).toBe(12);
        expect(r.u32(8)).toBe(0x5eed);
        expect(r.u8(11)).toBe(0);
        for (const [read, last] of [
          [(o: number) => r.u8(o), 11],
          [(o: number) => r.u16(o), 10],
          [(o: number) => r.u32(o), 8],
          [(o: number) => r.i32(o), 8],
          [(o: number) => r.u64(o), 4],
          [(o: number) => r.i64(o), 4],
          [(o: number) => r.u64n(o), 4],
          [(o: number) => r.f64(o), 4],
        ] as const) {
          expect(() => read(last)).not.toThrow();
          for (const bad of [last + 1, -1, 0.5, Number.NaN, 2 ** 32, 1e9, '0' as unknown as number]) {
            expect(() => read(bad)).toThrow(RangeError);
          }
        }
        expect(() => r.copyTo(new Uint8Array(11))).toThrow(RangeError);
        expect(() => r.copyTo(new Uint8Array(12), 1)).toThrow(RangeError);
        expect(() => r.copyTo(new Uint8Array(20), -1)).toThrow(RangeError);
        expect(() => r.copyTo([] as unknown as Uint8Array)).toThrow(TypeError);
        expect(() => r.copyTo(new Uint16Array(12) as unknown as Uint8Array)).toThrow(TypeError);
        expect(() => reader.consume(() => {})).toThrow(BpfError);
        expect(() => reader.consume(undefined as never)).toThrow(BpfError);
        expect(() => reader.next()).toThrow(BpfError);
        // Only the readers make records: the class reached through a record makes none.
        const Made = r.constructor as new (base: number, length: number) => RingRecord;
        expect(() => new Made(0, 12)).toThrow(TypeError);
      });
      expect(kept?.length).toBe(0);
      expect(() => kept?.u8(0)).toThrow(RangeError);
      expect(() => kept?.bytes()).toThrow(RangeError);
      expect((thrown(() => kept?.u8(0)) as Error).message).toMatch(/inside the consume\(\) callback/);
    });

    it('counts a record whose handler throws as consumed, and stops when the handler closes the reader', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = ringProducer(events, 3, 16);
      const reader = new RingBuffer(events);
      prog.run({ data: packet, repeat: 1 });
      expect(() =>
        reader.consume((r) => {
          if (r.u64n(0) === 1) throw new Error('handler failed');
        }),
      ).toThrow('handler failed');
      expect(reader.consume((r) => expect(r.u64n(0)).toBe(2))).toBe(1);
      prog.run({ data: packet, repeat: 1 });
      let calls = 0;
      expect(
        reader.consume(() => {
          calls++;
          reader.close();
        }),
      ).toBe(1);
      expect(calls).toBe(1);
      expect(() => reader.consume(() => {})).toThrow(ClosedError);
    });

    it('refuses a handler that is not a function before taking any record', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = ringProducer(events, 2, 16);
      using reader = new RingBuffer(events);
      prog.run({ data: packet, repeat: 1 });
      expect(() => reader.consume(42 as never)).toThrow(InvalidArgumentError);
      expect(reader.consume(() => {})).toBe(2);
    });
  });

  describe('next() and iteration give copies', () => {
    it('next() returns records the caller owns, valid after later calls and batches', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = ringProducer(events, 3, 16);
      using reader = new RingBuffer(events);
      prog.run({ data: packet, repeat: 1 });
      const records = [reader.next(), reader.next(), reader.next()];
      expect(reader.next()).toBeUndefined();
      expect(reader.available).toBe(0);
      prog.run({ data: packet, repeat: 1 });
      reader.consume(() => {}); // a later batch and a consume() leave them as they were
      expect(records.map((r) => n64(r!, 0))).toEqual([0, 1, 2]);
      for (const r of records) {
        expect(r).toBeInstanceOf(Uint8Array);
        expect(r?.length).toBe(16); // a view of the record, not of the batch
        expect(n32(r!, 8)).toBe(0x5eed);
        r!.slice().fill(0xff); // a copy of its own, to write
      }
      expect(n64(records[0]!, 0)).toBe(0);
    });

    it('takes a batch at once: the ring is free again before its records are handed out', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 1 << 16 });
      using prog = ringProducer(events, 64, 16);
      using reader = new RingBuffer(events);
      prog.run({ data: packet, repeat: 20 }); // 1,280 records: a batch of 1,024, then the rest
      expect(reader.next()?.length).toBe(16);
      expect(reader.available).toBe(256 * 24); // 1,024 taken with one consumer-position store
      const values: number[] = [];
      for (let r = reader.next(); r; r = reader.next()) values.push(r[isLittle ? 0 : 7]!);
      expect(values).toEqual(Array.from({ length: 1279 }, (_, i) => (i + 1) % 64));
      expect(reader.available).toBe(0);
    });

    it('accounts for every record as received or lost while the producer outruns next()', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 }); // 170 records of 24 bytes
      using lost = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
      const perRun = 48;
      using prog = ringProducer(events, perRun, 16, lost);
      using reader = new RingBuffer(events);
      const received: Uint8Array[] = [];
      let runs = 0;
      for (let round = 0; round < 40; round++) {
        prog.run({ data: packet, repeat: 5 }); // 240 records: more than the ring holds
        runs += 5;
        // Take only part of what waits (the rest of a batch stays taken, the producer runs again).
        for (let i = 0; i < 60; i++) {
          const record = reader.next();
          if (!record) break;
          received.push(record);
        }
      }
      for (let record = reader.next(); record; record = reader.next()) received.push(record);
      const dropped = Number(lost.get(0));
      expect(dropped).toBeGreaterThan(0);
      expect(received.length).toBeGreaterThan(40 * 60);
      expect(received.length + dropped).toBe(runs * perRun);
      // Every record kept its bytes although later batches were taken after it.
      for (const record of received) {
        expect(record.length).toBe(16);
        expect(n32(record, 8)).toBe(0x5eed);
        expect(n64(record, 0)).toBeLessThan(perRun);
      }
      expect(reader.available).toBe(0);
    });

    it('batches() accounts for every record of several rings, discarded ones skipped, while producers outrun it', async () => {
      using a = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 }); // 170 records of 24 bytes
      using b = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using lost = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 1 });
      const perRun = 48;
      using fromA = ringProducer(a, perRun, 16, lost);
      using fromB = discarder(b); // a discarded record, then { u64 9 }, per run
      using reader = new RingBuffer(a).add(b);
      const kept: RingRecord[] = [];
      let runs = 0;
      let nines = 0;
      const sort = (record: RingRecord) => {
        if (record.length === 8) nines += record.u64n(0) === 9 ? 1 : 0;
        else kept.push(record);
      };
      let tail = 0; // records of a left after the loop, read through next()
      const sortBytes = (bytes: Uint8Array) => {
        if (bytes.length === 8) nines += n64(bytes, 0) === 9 ? 1 : 0;
        else {
          expect([n64(bytes, 0) < perRun, n32(bytes, 8)]).toEqual([true, 0x5eed]);
          tail++;
        }
      };
      fromA.run({ data: packet, repeat: 5 });
      fromB.run({ data: packet, repeat: 3 });
      runs += 5;
      // Batches of at most 50: the producers run again while part of the rings is still waiting,
      // so records wrap the rings' ends and the loop waits on the event loop only when empty.
      for await (const records of reader.batches(50)) {
        expect(records.length).toBeGreaterThan(0);
        expect(records.length).toBeLessThanOrEqual(50);
        for (const record of records) sort(record);
        if (runs === 200) break;
        fromA.run({ data: packet, repeat: 5 });
        fromB.run({ data: packet, repeat: 1 });
        runs += 5;
      }
      // What the last batches left.
      for (let r = reader.next(); r; r = reader.next()) sortBytes(r);
      const dropped = Number(lost.get(0));
      expect(dropped).toBeGreaterThan(0);
      expect(kept.length + tail + dropped).toBe(runs * perRun);
      expect(nines).toBe(3 + (runs - 5) / 5);
      // Every record stayed valid after the batches taken after it.
      for (const record of kept) {
        expect(record.u32(8)).toBe(0x5eed);
        expect(record.u64n(0)).toBeLessThan(perRun);
      }
      expect(() => reader.batches(0)).toThrow(InvalidArgumentError);
    });

    it('batches() ends when the reader is closed in the middle of a batch, and the records stay valid', async () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = ringProducer(events, 10, 16);
      const reader = new RingBuffer(events);
      prog.run({ data: packet, repeat: 1 });
      const seen: RingRecord[] = [];
      setTimeout(() => prog.run({ data: packet, repeat: 1 }), 20);
      for await (const records of reader.batches(4)) {
        for (const record of records) {
          seen.push(record);
          if (seen.length === 13) reader.close();
        }
      }
      expect(seen.length).toBe(14); // batches of 4, 4, 2, then 4 of the second run: the array is the caller's
      expect(seen.map((r) => r.u64n(0))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3]);
      expect(() => reader.batches()).toThrow(ClosedError);
    });

    it('takes a record larger than a batch chunk whole, and keeps the records handed out before it', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 1 << 20 });
      using small = ringProducer(events, 3, 16);
      using big = bigRecord(events, 300_000); // more than the 256 KiB chunk batches are copied into
      using reader = new RingBuffer(events);
      small.run({ data: packet, repeat: 1 });
      const first = reader.next(); // its chunk is kept from now on
      big.run({ data: packet, repeat: 2 });
      small.run({ data: packet, repeat: 1 });
      const rest: Uint8Array[] = [];
      for (let r = reader.next(); r; r = reader.next()) rest.push(r);
      expect(rest.map((r) => [r.length, n64(r, 0)])).toEqual([
        [16, 1],
        [16, 2],
        [300_000, 7],
        [300_000, 7],
        [16, 0],
        [16, 1],
        [16, 2],
      ]);
      expect(n64(first!, 0)).toBe(0);
      expect(n32(first!, 8)).toBe(0x5eed);
      expect(rest[2]?.slice().length).toBe(300_000);
      expect(reader.available).toBe(0);
    });

    it('nextTransient() hands out every record through a reused facade, valid until the next call', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 }); // 170 records of 24 bytes
      using prog = ringProducer(events, 100, 16);
      using reader = new RingBuffer(events);
      prog.run({ data: packet, repeat: 1 });
      const kept = reader.next(); // a copy that must survive the batches reused after it
      const values: number[] = [];
      let previous: RingRecord | undefined;
      // 12 rounds of 100 records through a ring of 170: batches of every size, records that wrap.
      for (let round = 0; round < 12; round++) {
        if (round > 0) prog.run({ data: packet, repeat: 1 });
        for (let r = reader.nextTransient(); r; r = reader.nextTransient()) {
          previous = r;
          expect(r.length).toBe(16);
          expect(r.u64n(8)).toBe(0x5eed);
          values.push(r.u64n(0));
        }
        expect(previous?.length).toBe(0); // the call that found no record invalidated it
      }
      expect(values).toEqual(Array.from({ length: 1199 }, (_, i) => (i + 1) % 100));
      expect(n64(kept!, 0)).toBe(0);
      expect(n32(kept!, 8)).toBe(0x5eed);
      prog.run({ data: packet, repeat: 1 });
      const record = reader.nextTransient()!;
      expect(reader.next()?.length).toBe(16); // next() after it: the transient one is invalid
      expect(() => record.u8(0)).toThrow(RangeError);
      const last = reader.nextTransient()!;
      reader.consume(() => {});
      expect(last.length).toBe(0);
      const afterClose = reader.nextTransient()!;
      reader.close();
      expect(afterClose.length).toBe(0);
      expect(() => afterClose.u64n(0)).toThrow(/no longer valid/);
      expect(() => reader.nextTransient()).toThrow(ClosedError);
    });

    it('for await waits on the event loop for records and ends when closed', async () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = ringProducer(events, 5, 16);
      const reader = new RingBuffer(events);
      setTimeout(() => prog.run({ data: packet, repeat: 1 }), 20);
      let count = 0;
      for await (const record of reader) {
        expect(n32(record, 8)).toBe(0x5eed);
        if (++count === 5) break;
      }
      expect(count).toBe(5);
      const waiting = reader.wait();
      reader.close();
      await waiting;
      expect(() => reader.next()).toThrow(ClosedError);
    });
  });

  describe('typed decode', () => {
    const whole = (i: number) => ({ i, seed: 0x5eed, magic: 0x04030201, minusOne: -1 });

    it('decodes each record with a codec, in consume() and in for await ... of decoded()', async () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = ringProducer(events, 3, 24);
      using reader = new RingBuffer(events);
      prog.run({ data: packet, repeat: 1 });
      const seen: unknown[] = [];
      expect(reader.consume((r) => seen.push(r.decode(sampleCodec)))).toBe(3);
      expect(seen).toEqual([0, 1, 2].map(whole));
      prog.run({ data: packet, repeat: 2 });
      const decoded: unknown[] = [];
      for await (const e of reader.decoded(sampleCodec)) if (decoded.push(e) === 6) break;
      expect(decoded).toEqual([0, 1, 2, 0, 1, 2].map(whole));
      prog.run({ data: packet, repeat: 1 });
      const numbers: number[] = [];
      for await (const i of reader.decoded('u64n')) if (numbers.push(i) === 3) break;
      prog.run({ data: packet, repeat: 1 });
      reader.consume((r) => numbers.push(r.decode('u64n')));
      expect(numbers).toEqual([0, 1, 2, 0, 1, 2]);
    });

    it('refuses a record shorter than the codec with the sizes, in order, reading nothing past it', async () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using full = ringProducer(events, 1, 24);
      using short = ringProducer(events, 1, 12);
      using reader = new RingBuffer(events);
      short.run({ data: packet, repeat: 1 });
      const error = thrown(() => reader.consume((r) => r.decode(sampleCodec)));
      expect(error).toBeInstanceOf(RecordTooShortError);
      expect(error).toMatchObject({ length: 12, size: 24 });
      expect((error as Error).message).toMatch(/12 bytes .* 24 bytes/);
      for (const producer of [full, short, full]) producer.run({ data: packet, repeat: 1 });
      const events$ = reader.decoded(sampleCodec);
      expect(await events$.next()).toEqual({ value: whole(0), done: false });
      await expect(events$.next()).rejects.toThrow(RecordTooShortError);
      expect(await events$.next()).toEqual({ value: whole(0), done: false });
      expect(reader.next()).toBeUndefined();
    });
  });

  describe('no public path writes into the read-only mapping', () => {
    it('a write through the read-only mapping does kill a process (the control)', () => {
      const run = child(`
        import { BpfMap } from '@core';
        import * as sys from '@sys';
        const events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
        const data = new Uint8Array(sys.mmapReadOnlyUnchecked(events.fd, 3 * 4096, 4096));
        data[4096] = 1;
        console.log('survived');
      `);
      expect(run.signal, run.stderr).toBe('SIGSEGV');
    });

    it('a child writing into everything it can reach, after patching the builtins, exits 0', () => {
      const run = child(CHILD_WRITES_EVERYWHERE);
      expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({
        status: 0,
        signal: null,
        stderr: '',
      });
      const report = JSON.parse(run.stdout.trim().split('\n').pop()!);
      expect(report.consumed).toBeGreaterThan(0);
      expect(report.written).toBeGreaterThan(0);
      expect(report.patchedCalls).toBeGreaterThan(0);
    }, 60_000);
  });

  describe('several rings behind one reader', () => {
    it('reads every ring added, each with its own handler or the one given to consume', () => {
      using a = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using b = BpfMap.create({ type: 'ringbuf', maxEntries: 8192 });
      using c = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using fromA = ringProducer(a, 2, 16);
      using fromB = ringProducer(b, 3, 16);
      using fromC = ringProducer(c, 4, 16);
      const seenB: number[] = [];
      using reader = new RingBuffer(a).add(b, (r) => seenB.push(r.u64n(0))).add(c);
      fromA.run({ data: packet, repeat: 1 });
      fromB.run({ data: packet, repeat: 1 });
      fromC.run({ data: packet, repeat: 1 });
      expect(reader.available).toBe(9 * 24);
      const seen: number[] = [];
      expect(reader.consume((r) => seen.push(r.u64n(0)))).toBe(9);
      expect(seen).toEqual([0, 1, 0, 1, 2, 3]); // a's, then c's
      expect(seenB).toEqual([0, 1, 2]);
      expect(reader.available).toBe(0);
      fromC.run({ data: packet, repeat: 1 });
      expect(() => reader.consume()).toThrow(/needs a handler/);
      expect(reader.consume(() => {}, 2)).toBe(2);
      fromA.run({ data: packet, repeat: 1 });
      const copies = [reader.next(), reader.next(), reader.next(), reader.next()];
      expect(copies.map((record) => n64(record!, 0))).toEqual([0, 1, 2, 3]);
      expect(reader.next()).toBeUndefined();
      expect(() => reader.add(packet as never)).toThrow(InvalidArgumentError);
    });

    it('wakes on any of its rings, and closes every fd it took', async () => {
      const before = openFdCount();
      const a = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      const b = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      const fromB = ringProducer(b, 1, 16);
      const reader = new RingBuffer(a, () => {}).add(b);
      const waiting = reader.wait();
      setTimeout(() => fromB.run({ data: packet, repeat: 1 }), 20);
      await waiting;
      expect(reader.next()?.length).toBe(16);
      a.close(); // the first map: the reader closes with it
      expect(reader.closed).toBe(true);
      expect(() => reader.add(b)).toThrow(ClosedError);
      fromB.close();
      b.close();
      expect(openFdCount()).toBe(before);
    });
  });

  describe('lifetime', () => {
    it('takes only ringbuf maps, owns its own fd, and leaks nothing', () => {
      using hash = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
      expect(() => new RingBuffer(hash as never)).toThrow(InvalidArgumentError);
      const before = openFdCount();
      const events = BpfMap.create({ type: 'ringbuf', maxEntries: 8192 });
      const reader = new RingBuffer(events);
      expect(reader.available).toBe(0);
      reader.close();
      reader.close();
      events.close();
      expect(openFdCount()).toBe(before);
      expect(() => reader.available).toThrow(ClosedError);
    });

    it('closes with its map, and a reader made of a closed map is closed', () => {
      const before = openFdCount();
      const events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      const reader = new RingBuffer(events);
      events.close();
      expect(reader.closed).toBe(true);
      expect(() => reader.next()).toThrow(ClosedError);
      expect(openFdCount()).toBe(before);
    });
  });

  describe('waiting', () => {
    it('settles every concurrent wait() when records come', async () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = ringProducer(events, 1, 16);
      using reader = new RingBuffer(events);
      const settled: number[] = [];
      const waits = [0, 1, 2].map((i) => reader.wait().then(() => settled.push(i)));
      setTimeout(() => prog.run({ data: packet, repeat: 1 }), 20);
      await Promise.all(waits);
      expect(settled.sort()).toEqual([0, 1, 2]);
      expect(reader.next()?.length).toBe(16);
    });

    it('closing the reader resolves every pending wait()', async () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      const reader = new RingBuffer(events);
      const waits = [reader.wait(), reader.wait()];
      setTimeout(() => reader.close(), 20);
      await Promise.all(waits);
      expect(() => reader.wait()).toThrow(ClosedError);
    });

    it('for await ends when the map it reads is closed', async () => {
      const events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = ringProducer(events, 2, 16);
      const reader = new RingBuffer(events);
      prog.run({ data: packet, repeat: 1 });
      setTimeout(() => events.close(), 50);
      let count = 0;
      for await (const _ of reader) count++;
      expect(count).toBe(2);
      expect(reader.closed).toBe(true);
    });
  });
});

/**
 * The child of the crash test: it patches every builtin the reader could hand a view to, then
 * reaches for record bytes through every public way (consume's record and all its methods, next(),
 * iteration, errors, every property and getter of the reader and the record and their prototypes)
 * and writes into every ArrayBuffer or view it found. A view of the read-only mapping would kill it.
 */
const CHILD_WRITES_EVERYWHERE = `
  import { BpfMap, BpfProgram, RingBuffer } from '@core';
  import * as asm from '@ebpf/asm';
  const apply = Reflect.apply;
  const U8 = Uint8Array;
  const fill = Uint8Array.prototype.fill;
  const found = new Set();
  const seen = new WeakSet();
  let patchedCalls = 0;
  const grab = (...values) => { patchedCalls++; for (const v of values) walk(v, 0); };
  function walk(value, depth) {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) return;
    seen.add(value);
    if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) found.add(value);
    if (depth > 4 || value === globalThis) return;
    for (let o = value; o && o !== Object.prototype && o !== Function.prototype; o = Object.getPrototypeOf(o)) {
      for (const key of Reflect.ownKeys(o)) {
        let v;
        try { v = Reflect.get(o, key, value); } catch (error) { v = error; }
        walk(v, depth + 1);
      }
    }
  }

  // Writes into everything found so far, at once (while the ring is still mapped).
  let written = 0;
  const done = new WeakSet();
  function writeAll() {
    for (const x of [...found]) {
      if (done.has(x)) continue;
      done.add(x);
      let bytes;
      try {
        bytes = x instanceof ArrayBuffer ? new U8(x) : new U8(x.buffer, x.byteOffset, x.byteLength);
      } catch {
        continue; // detached: nothing to write into
      }
      apply(fill, bytes, [0xa5]);
      written++;
    }
  }

  const events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
  const prog = BpfProgram.load({ type: 'xdp', license: 'GPL', maps: { events }, instructions: [
    asm.mov64(asm.R6, 0), asm.label('loop'), asm.stxdw(asm.R10, -24, asm.R6), asm.stdw(asm.R10, -16, 0x5eed),
    asm.stdw(asm.R10, -8, 7), asm.ldMapFd(asm.R1, 'events'), asm.mov64(asm.R2, asm.R10), asm.add64(asm.R2, -24),
    asm.mov64(asm.R3, 24), asm.mov64(asm.R4, 0), asm.call('ringbuf_output'), asm.add64(asm.R6, 1),
    asm.jlt(asm.R6, 8, 'loop'), asm.mov64(asm.R0, 2), asm.exit()] });
  const reader = new RingBuffer(events);

  // Patch, after the library loaded, whatever a careless library would pass a view to.
  const TA = Object.getPrototypeOf(Uint8Array);
  for (const [obj, names] of [
    [Atomics, ['load', 'store']],
    [TA.prototype, ['subarray', 'slice', 'set', 'fill', 'copyWithin', 'at']],
    [DataView.prototype, ['getUint8', 'getUint16', 'getUint32', 'getInt32', 'getBigUint64', 'getBigInt64', 'getFloat64']],
    [Function.prototype, ['call', 'apply', 'bind']],
    [Reflect, ['apply', 'construct']],
  ]) {
    for (const name of names) {
      const original = obj[name];
      obj[name] = function (...args) { grab(this, ...args); return apply(original, this, args); };
    }
  }
  for (const C of [TA, Uint8Array, Uint32Array, BigUint64Array, Float64Array, ArrayBuffer]) {
    Object.defineProperty(C, Symbol.species, { configurable: true, get() { grab(this); return this; } });
  }
  for (const name of ['Uint8Array', 'Uint16Array', 'Uint32Array', 'Int32Array', 'Float64Array', 'BigUint64Array', 'BigInt64Array', 'DataView', 'BigInt', 'Number', 'RangeError', 'TypeError']) {
    const Original = globalThis[name];
    globalThis[name] = new Proxy(Original, {
      apply(t, self, args) { grab(...args); return Reflect.apply(t, self, args); },
      construct(t, args, nt) { grab(...args); return Reflect.construct(t, args, nt); },
    });
  }
  patchedCalls = 0;

  let consumed = 0;
  const tryAll = (fn) => { try { walk(fn(), 0); } catch (error) { walk(error, 0); } };
  prog.run({ data: new Uint8Array(64), repeat: 2 });
  let kept;
  reader.consume((record) => {
    consumed++;
    kept = record;
    walk(record, 0);
    for (const m of ['u8', 'u16', 'u32', 'i32', 'u64', 'i64', 'u64n', 'f64']) {
      for (const off of [0, 1, 3, 8, 17, 23, 24, -1, 1e9]) tryAll(() => record[m](off));
    }
    tryAll(() => record.bytes());
    // A codec is user code too: what decode() hands it is written into like the rest.
    tryAll(() => record.decode({ size: 8, align: 1, name: 'grab', read: (view) => walk(view, 0), write() {} }));
    const target = new Uint8Array(64);
    tryAll(() => record.copyTo(target, 3));
    found.add(target);
    tryAll(() => record.copyTo({ length: 100 }));
    tryAll(() => record.copyTo(new Proxy(new Uint8Array(64), {})));
    tryAll(() => reader.next());
    tryAll(() => reader.consume(() => {}));
    tryAll(() => new record.constructor(0, 24));
    writeAll();
  }, 4);
  walk(kept, 0);
  tryAll(() => kept.u8(0));
  tryAll(() => kept.bytes());
  writeAll();
  for (let r; (r = reader.next()); ) { consumed++; walk(r, 0); writeAll(); }
  walk(reader, 0);
  writeAll();
  prog.run({ data: new Uint8Array(64), repeat: 1 });
  let n = 0;
  for await (const r of reader) { consumed++; walk(r, 0); writeAll(); if (++n === 8) break; }
  walk(reader, 0);
  writeAll();
  prog.run({ data: new Uint8Array(64), repeat: 1 });
  n = 0;
  const grabber = { size: 8, align: 1, name: 'grab', read: (view) => { walk(view, 0); writeAll(); return 1; }, write() {} };
  for await (const one of reader.decoded(grabber)) { consumed += one; if (++n === 8) break; }
  writeAll();
  reader.close();
  tryAll(() => reader.next());
  tryAll(() => kept.u8(0));
  walk(reader, 0);

  writeAll();
  console.log(JSON.stringify({ consumed, written, patchedCalls }));
`;
