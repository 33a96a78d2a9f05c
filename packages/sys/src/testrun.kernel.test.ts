/**
 * testRunner: BPF_PROG_TEST_RUN prepared once. The packet, context and sizes live in the runner's
 * own memory; every size is checked against its region on each run, so no value written into the
 * header can make the kernel read or write outside that memory.
 */
import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { TestRunSlot as S, type SysError, testRunner } from './index.ts';
import { exit, loadProgram, movImm, ProgType, program, testRun, trackFds } from './test/helpers.ts';

const track = trackFds();
const xdpPass = program(movImm(0, 2), exit());

requireKernel('testRunner', () => {
  it('runs XDP and reports retval, sizes and duration', () => {
    const fd = track(loadProgram(ProgType.Xdp, xdpPass));
    const t = testRunner(fd, { dataIn: 64 });
    t.header[S.DataSizeIn] = 64;
    t.header[S.Repeat] = 1000;
    t.header[S.Duration] = 0xffffffff;
    expect(t.run()).toBe(2);
    expect(t.header[S.Retval]).toBe(2);
    expect(t.header[S.DataSizeOut]).toBe(64); // the kernel reports it without data_out
    expect(t.header[S.CtxSizeOut]).toBe(0);
    expect(t.header[S.Duration]).toBeLessThan(1_000_000);
    // Many runs from one runner; it agrees with the generic bpf() path.
    t.header[S.Repeat] = 1;
    for (let i = 0; i < 1000; i++) expect(t.run()).toBe(2);
    expect(testRun(fd, new Uint8Array(64))).toBe(2);
  });

  it('copies the output packet and context into their regions, nothing past the room', () => {
    const fd = track(loadProgram(ProgType.Xdp, xdpPass));
    const t = testRunner(fd, { dataIn: 64, dataOut: 80, ctxIn: 24, ctxOut: 24 });
    t.dataIn.fill(7);
    t.dataOut.fill(0xa5);
    new DataView(t.ctxIn.buffer, t.ctxIn.byteOffset).setUint32(4, 64, true); // xdp_md.data_end
    t.header.set([64, 64, 24, 24], S.DataSizeIn);
    expect(t.run()).toBe(2);
    expect(t.header[S.DataSizeOut]).toBe(64);
    expect(t.header[S.CtxSizeOut]).toBe(24);
    expect(t.dataOut.subarray(0, 64).every((b) => b === 7)).toBe(true);
    expect(t.dataOut.subarray(64).every((b) => b === 0xa5)).toBe(true);
    expect(new DataView(t.ctxOut.buffer, t.ctxOut.byteOffset).getUint32(4, true)).toBe(64);
  });

  it('bounds data_out by its room: ENOSPC with the size wanted, nothing written past it', () => {
    const fd = track(loadProgram(ProgType.Xdp, xdpPass));
    const t = testRunner(fd, { dataIn: 64, dataOut: 32 });
    t.dataIn.fill(9);
    t.dataOut.fill(0xa5);
    t.header[S.DataSizeIn] = 64;
    t.header[S.DataOutRoom] = 16;
    let error: SysError | undefined;
    try {
      t.run();
    } catch (e) {
      error = e as SysError;
    }
    expect(error?.code).toBe('ENOSPC');
    expect(error?.command).toBe('BPF_PROG_TEST_RUN');
    expect(t.header[S.DataSizeOut]).toBe(64);
    expect(t.dataOut.subarray(0, 16).every((b) => b === 9)).toBe(true);
    expect(t.dataOut.subarray(16).every((b) => b === 0xa5)).toBe(true);
  });

  it('refuses a size beyond its region before the call, whatever the header says', () => {
    const fd = track(loadProgram(ProgType.Xdp, xdpPass));
    const t = testRunner(fd, { dataIn: 64, dataOut: 64, ctxIn: 24, ctxOut: 24 });
    const slots = [S.DataSizeIn, S.DataOutRoom, S.CtxSizeIn, S.CtxOutRoom];
    const names = ['data in size 65', 'data out size 65', 'context in size 25', 'context out size 25'];
    for (const [i, slot] of slots.entries()) {
      t.header.set([64, 64, 0, 0], S.DataSizeIn);
      t.header[slot] = (slot === S.CtxSizeIn || slot === S.CtxOutRoom ? 24 : 64) + 1;
      expect(() => t.run()).toThrow(new RegExp(`${names[i]} exceeds the runner's`));
      t.header[slot] = 0xffffffff;
      expect(() => t.run()).toThrow(RangeError);
    }
    // A runner without regions passes no buffers at all.
    const bare = testRunner(fd);
    bare.header[S.DataSizeIn] = 1;
    expect(() => bare.run()).toThrow(/data in size 1 exceeds the runner's 0 bytes/);
  });

  it('throws the kernel errno for types without test runs (ENOTSUPP)', () => {
    const fd = track(loadProgram(ProgType.Tracepoint, program(movImm(0, 0), exit())));
    let error: SysError | undefined;
    try {
      testRunner(fd).run();
    } catch (e) {
      error = e as SysError;
    }
    expect(error?.errno).toBe(524);
  });

  it('keeps its memory when asked to transfer it, and refuses to run on detached memory', () => {
    const fd = track(loadProgram(ProgType.Xdp, xdpPass));
    const t = testRunner(fd, { dataIn: 64 });
    t.header[S.DataSizeIn] = 64;
    const memory = t.header.buffer as ArrayBuffer;
    // markAsUntransferable: a transfer list copies instead of detaching.
    const copy = structuredClone(memory, { transfer: [memory] });
    expect(memory.byteLength).toBeGreaterThan(0);
    expect(copy.byteLength).toBe(memory.byteLength);
    expect(t.run()).toBe(2);
    // Node 22's ArrayBuffer.prototype.transfer detaches regardless; the runner then refuses.
    const transfer = (ArrayBuffer.prototype as { transfer?: () => ArrayBuffer }).transfer;
    if (transfer !== undefined) {
      transfer.call(memory);
      expect(() => t.run()).toThrow(/memory was detached/);
    }
  });

  it('never writes past the room it was given, whatever sizes the header holds', () => {
    const fd = track(loadProgram(ProgType.Xdp, xdpPass));
    const t = testRunner(fd, { dataIn: 64, dataOut: 128, ctxIn: 24, ctxOut: 24 });
    const whole = new Uint8Array(t.header.buffer);
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      whole.fill(0xa5, t.dataOut.byteOffset);
      t.dataIn.fill(round & 0xff);
      const room = random(160);
      t.header.set([14 + random(60), room, random(2) * 24, random(2) * 24, random(3)], S.DataSizeIn);
      try {
        t.run();
      } catch {
        // ENOSPC, EINVAL (context without packet) or RangeError: the bytes are what matters.
      }
      const written = Math.min(room, 128);
      expect(t.dataOut.subarray(written).every((b) => b === 0xa5)).toBe(true);
      expect(t.ctxIn.every((b) => b === 0xa5)).toBe(true);
    }
  });

  it('refuses bad arguments when preparing', () => {
    const loose = testRunner as (...args: unknown[]) => unknown;
    expect(() => loose(-1)).toThrow(/progFd/);
    expect(() => loose(1.5)).toThrow(/progFd/);
    expect(() => loose(3, { dataIn: -1 })).toThrow(/data in must be an integer/);
    expect(() => loose(3, { dataOut: 2 ** 31 })).toThrow(RangeError);
    expect(() => loose(3, { ctxIn: 'x' })).toThrow(/context in must be an integer/);
    expect(() => loose(3, { ctxOut: 0.5 })).toThrow(/context out/);
  });
});
