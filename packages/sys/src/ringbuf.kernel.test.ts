import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { mmap, mmapReadOnlyUnchecked, munmap, pageSize, ringbufDrain } from './index.ts';
import {
  buf,
  createMap,
  loadProgram,
  MapType,
  ProgType,
  ringbufProducer,
  testRun,
  trackFds,
} from './test/helpers.ts';

const track = trackFds();
const isLittle = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

requireKernel('ringbufDrain', () => {
  it('copies committed records into our buffer, wrapping the end, and publishes the consumer once', () => {
    const page = pageSize();
    const size = page; // 256 records of 16 bytes: runs of 100 wrap the end
    const rb = track(createMap(MapType.Ringbuf, 0, 0, size));
    const prog = track(loadProgram(ProgType.Xdp, ringbufProducer(rb)));
    const consumerAb = mmap(rb, page, true, 0);
    const consumer = new BigUint64Array(consumerAb, 0, 1);
    const producerAb = mmapReadOnlyUnchecked(rb, page + 2 * size, page);
    const out = buf(40 * 16);
    const spans = new Uint32Array(new ArrayBuffer(2 * 4 * 64));
    let received = 0;
    for (let round = 0; round < 5; round++) {
      expect(testRun(prog, buf(64), 100)).toBe(2);
      let inRound = 0;
      for (
        let n = ringbufDrain(consumerAb, producerAb, out, spans);
        n !== 0;
        n = ringbufDrain(consumerAb, producerAb, out, spans)
      ) {
        expect(n).toBeLessThanOrEqual(40); // bounded by out (40 records of 16 bytes)
        const view = new DataView(out.buffer);
        for (let i = 0; i < n; i++) {
          expect(spans[2 * i]).toBe(16 * i + 8);
          expect(spans[2 * i + 1]).toBe(8);
          expect(view.getUint32(16 * i + 8, isLittle)).toBe(0x5eed);
        }
        inRound += n;
      }
      expect(inRound).toBe(100);
      received += inRound;
      expect(consumer[0]).toBe(BigInt(received * 16));
    }
    expect(testRun(prog, buf(64), 3)).toBe(2);
    expect(ringbufDrain(consumerAb, producerAb, buf(8), spans)).toBe(-16); // minus what it needs
    expect(ringbufDrain(consumerAb, producerAb, out, new Uint32Array(new ArrayBuffer(4)))).toBe(0);
    expect(consumer[0]).toBe(BigInt(received * 16)); // nothing taken
    expect(ringbufDrain(consumerAb, producerAb, out, spans)).toBe(3);
    munmap(producerAb);
    munmap(consumerAb);
  });

  it('refuses buffers that are not a ring, and a consumer position outside the data', () => {
    const page = pageSize();
    const rb = track(createMap(MapType.Ringbuf, 0, 0, page));
    const consumerAb = mmap(rb, page, true, 0);
    const producerAb = mmapReadOnlyUnchecked(rb, 3 * page, page);
    const spans = new Uint32Array(new ArrayBuffer(16));
    const drain =
      (c: unknown, p: unknown, o: unknown = buf(64), s: unknown = spans) =>
      () =>
        ringbufDrain(c as ArrayBuffer, p as ArrayBuffer, o as Uint8Array, s as Uint32Array);
    expect(drain(consumerAb, new ArrayBuffer(2 * page))).toThrow(RangeError);
    expect(drain(new ArrayBuffer(4), producerAb)).toThrow(RangeError);
    expect(drain(consumerAb, buf(3 * page))).toThrow(TypeError);
    expect(drain(consumerAb, producerAb, new Uint16Array(4))).toThrow(TypeError);
    expect(drain(consumerAb, producerAb, buf(64), buf(16))).toThrow(TypeError);
    new BigUint64Array(consumerAb, 0, 1)[0] = 1n << 40n; // a position past the producer's
    expect(drain(consumerAb, producerAb)).toThrow(/not within the ring's data/);
    munmap(producerAb);
    munmap(consumerAb);
  });
});
