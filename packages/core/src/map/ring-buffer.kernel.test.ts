import { add64, call, exit, ldMapFd, mov64, R0, R1, R2, R3, R4, R10, stdw } from '@ebpf/asm';
import { openFdCount, requireKernel } from '@ebpf/test-utils';
import { describe, expect, it } from 'vitest';
import { ClosedError, InvalidArgumentError } from '../errors.ts';
import { BpfProgram } from '../program/index.ts';
import { BpfMap, RingBuffer } from './index.ts';

/** An XDP program writing one 16-byte record { u64 7, u64 0x5eed } per run. */
function producer(events: BpfMap): BpfProgram {
  return BpfProgram.load({
    type: 'xdp',
    license: 'GPL',
    maps: { events },
    instructions: [
      stdw(R10, -16, 7),
      stdw(R10, -8, 0x5eed),
      ldMapFd(R1, 'events'),
      mov64(R2, R10),
      add64(R2, -16),
      mov64(R3, 16),
      mov64(R4, 0),
      call('ringbuf_output'),
      mov64(R0, 2),
      exit(),
    ],
  });
}

const packet = new Uint8Array(64);

requireKernel('RingBuffer (kernel)', () => {
  describe('reading records', () => {
    it('consume() hands out every record without copying, and frees the space', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = producer(events);
      using reader = new RingBuffer(events);
      expect(reader.size).toBe(4096);
      expect(reader.consume(() => {})).toBe(0);
      prog.run({ data: packet, repeat: 100 }); // 100 × 24 bytes: fits in 4 KiB
      expect(reader.available).toBe(100 * 24);
      let sum = 0;
      let n = reader.consume((view, offset, length) => {
        expect(length).toBe(16);
        sum +=
          Number(view.getBigUint64(offset, true)) + (view.getUint32(offset + 8, true) === 0x5eed ? 0 : 1e9);
      }, 60);
      expect(n).toBe(60);
      n += reader.consume(() => {
        sum += 7;
      });
      expect(n).toBe(100);
      expect(sum).toBe(700);
      expect(reader.available).toBe(0);
      // The space was given back: the ring fills again, across its end (records wrap).
      prog.run({ data: packet, repeat: 150 });
      expect(reader.consume(() => {})).toBe(150);
    });

    it('next() returns views until the ring is empty', () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = producer(events);
      using reader = new RingBuffer(events);
      prog.run({ data: packet, repeat: 3 });
      const records = [reader.next(), reader.next(), reader.next()];
      expect(records.every((r) => r?.length === 16 && r[0] === 7)).toBe(true);
      expect(reader.next()).toBeUndefined();
    });

    it('for await waits on the event loop for records and ends when closed', async () => {
      using events = BpfMap.create({ type: 'ringbuf', maxEntries: 4096 });
      using prog = producer(events);
      const reader = new RingBuffer(events);
      setTimeout(() => prog.run({ data: packet, repeat: 5 }), 20);
      let count = 0;
      for await (const record of reader) {
        expect(new DataView(record.buffer, record.byteOffset).getUint32(8, true)).toBe(0x5eed);
        if (++count === 5) break;
      }
      expect(count).toBe(5);
      const waiting = reader.wait();
      reader.close();
      await waiting;
      expect(() => reader.next()).toThrow(ClosedError);
    });

    it('takes only ringbuf maps, owns its own fd, and leaks nothing', () => {
      using hash = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
      expect(() => new RingBuffer(hash as never)).toThrow(InvalidArgumentError);
      const before = openFdCount();
      const events = BpfMap.create({ type: 'ringbuf', maxEntries: 8192 });
      const reader = new RingBuffer(events);
      events.close();
      expect(reader.available).toBe(0);
      reader.close();
      reader.close();
      expect(openFdCount()).toBe(before);
    });
  });
});
