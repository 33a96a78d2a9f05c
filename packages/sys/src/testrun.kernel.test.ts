/**
 * progTestRun: the dedicated BPF_PROG_TEST_RUN entry point. Every size it passes is the length of
 * the buffer it describes, so the kernel cannot write past any JS buffer; the kernel's outputs
 * land in the result array, also when the call fails.
 */
import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { progTestRun, type SysError, TestRunResult } from './index.ts';
import { native } from './native.ts';
import { buf, exit, loadProgram, movImm, ProgType, program, testRun, trackFds } from './test/helpers.ts';

const track = trackFds();
const xdpPass = program(movImm(0, 2), exit());

/** `n` bytes inside a larger buffer filled with 0xa5 around them. */
function guarded(n: number): { inner: Uint8Array; intact: () => boolean } {
  const whole = new Uint8Array(new ArrayBuffer(n + 128)).fill(0xa5);
  const inner = whole.subarray(64, 64 + n);
  inner.fill(0);
  return {
    inner,
    intact: () =>
      whole.subarray(0, 64).every((b) => b === 0xa5) && whole.subarray(64 + n).every((b) => b === 0xa5),
  };
}

requireKernel('progTestRun', () => {
  it('runs XDP and reports retval, sizes and duration', () => {
    const fd = track(loadProgram(ProgType.Xdp, xdpPass));
    const result = new Uint32Array(4).fill(0xffffffff);
    progTestRun(fd, buf(64), null, null, null, 1000, 0, 0, 0, result);
    expect(result[TestRunResult.Retval]).toBe(2);
    expect(result[TestRunResult.DataSizeOut]).toBe(64); // the kernel reports it without data_out
    expect(result[TestRunResult.CtxSizeOut]).toBe(0);
    expect(result[TestRunResult.Duration]).toBeLessThan(1_000_000);
    // Optional arguments as undefined are 0; an empty dataOut is no buffer.
    const loose = progTestRun as (...args: unknown[]) => void;
    loose(
      fd,
      buf(64),
      new Uint8Array(0),
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      result,
    );
    expect(result[TestRunResult.Retval]).toBe(2);
    // It agrees with the generic bpf() path.
    expect(testRun(fd, buf(64))).toBe(2);
  });

  it('copies the output packet and context into their buffers', () => {
    const fd = track(loadProgram(ProgType.Xdp, xdpPass));
    const data = buf(64);
    data.fill(7);
    const out = guarded(64);
    const ctxIn = buf(24);
    new DataView(ctxIn.buffer).setUint32(4, 64, true); // xdp_md.data_end = packet length
    const ctxOut = guarded(24);
    const result = new Uint32Array(4);
    progTestRun(fd, data, out.inner, ctxIn, ctxOut.inner, 1, 0, 0, 0, result);
    expect(result[TestRunResult.Retval]).toBe(2);
    expect(result[TestRunResult.DataSizeOut]).toBe(64);
    expect(result[TestRunResult.CtxSizeOut]).toBe(24);
    expect(out.inner.every((b) => b === 7)).toBe(true);
    expect(out.intact() && ctxOut.intact()).toBe(true);
  });

  it('bounds data_out by dataOut.length: ENOSPC with the size wanted, nothing written past it', () => {
    const fd = track(loadProgram(ProgType.Xdp, xdpPass));
    const data = buf(64).fill(9);
    const out = guarded(16);
    const result = new Uint32Array(4);
    let error: SysError | undefined;
    try {
      progTestRun(fd, data, out.inner, null, null, 1, 0, 0, 0, result);
    } catch (e) {
      error = e as SysError;
    }
    expect(error?.code).toBe('ENOSPC');
    expect(error?.command).toBe('BPF_PROG_TEST_RUN');
    expect(result[TestRunResult.DataSizeOut]).toBe(64);
    expect(out.inner.every((b) => b === 9)).toBe(true);
    expect(out.intact()).toBe(true);
  });

  it('throws the kernel errno for types without test runs (ENOTSUPP)', () => {
    const fd = track(loadProgram(ProgType.Tracepoint, program(movImm(0, 0), exit())));
    let error: SysError | undefined;
    try {
      progTestRun(fd, null, null, null, null, 0, 0, 0, 0, new Uint32Array(4));
    } catch (e) {
      error = e as SysError;
    }
    expect(error?.errno).toBe(524);
  });

  it('refuses bad arguments before the call', () => {
    const fd = track(loadProgram(ProgType.Xdp, xdpPass));
    const loose = progTestRun as (...args: unknown[]) => void;
    const ok = [fd, buf(64), null, null, null, 1, 0, 0, 0, new Uint32Array(4)];
    const withArg = (i: number, v: unknown) => () => loose(...ok.map((x, j) => (j === i ? v : x)));
    expect(withArg(9, new Uint32Array(3))).toThrow(/result must be a Uint32Array of at least 4/);
    expect(withArg(9, new Uint8Array(16))).toThrow(TypeError);
    expect(withArg(9, undefined)).toThrow(TypeError);
    expect(withArg(1, new Uint16Array(32))).toThrow(/dataIn must be a Uint8Array/);
    expect(withArg(2, 'x')).toThrow(/dataOut must be a Uint8Array/);
    expect(withArg(3, 5)).toThrow(/ctxIn must be a Uint8Array/);
    expect(withArg(4, {})).toThrow(/ctxOut must be a Uint8Array/);
    expect(withArg(5, -1)).toThrow(/repeat must be an integer in/);
    expect(withArg(5, 2 ** 32)).toThrow(RangeError);
    expect(withArg(6, 1.5)).toThrow(/flags must be an integer/);
    expect(withArg(7, 'x')).toThrow(/cpu must be an integer/);
    expect(withArg(8, Number.NaN)).toThrow(/batchSize/);
    expect(withArg(0, -1)).toThrow(/progFd/);
    expect(withArg(0, 1.5)).toThrow(/progFd/);
    // The five-argument native path checks the result's bytes itself (any view of 16 or more).
    const short = (result: unknown) => () =>
      native.progTestRunData(fd, buf(64), null, 1, result as Uint32Array);
    expect(short(new Uint16Array(4))).toThrow(/result must be/);
    expect(short(null)).toThrow(/result must be/);
    expect(short(new Uint16Array(8))).not.toThrow();
  });
});
