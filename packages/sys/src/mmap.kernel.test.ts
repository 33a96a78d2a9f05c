import { requireKernel } from '@ebpf/test-utils';
import { afterEach, expect, it } from 'vitest';
import { close, FdWatcher, mapLookup, mapUpdate, mmap, munmap, pageSize } from './index.ts';
import {
  addImm,
  buf,
  call,
  createMap,
  exit,
  ldMapFd,
  loadProgram,
  MapType,
  movImm,
  movReg,
  ProgType,
  program,
  stDw,
  testRun,
} from './test/helpers.ts';

const open: number[] = [];
const track = (fd: number): number => {
  open.push(fd);
  return fd;
};
afterEach(() => {
  for (const fd of open.splice(0)) close(fd);
});

const BPF_F_MMAPABLE = 1 << 10;
const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

requireKernel('mmap', () => {
  it('maps a BPF_F_MMAPABLE array seen from both the syscall and the mapping', () => {
    const fd = track(createMap(MapType.Array, 4, 8, 1024, BPF_F_MMAPABLE));
    const ab = mmap(fd, 1024 * 8, true);
    expect(ab.byteLength).toBe(8192);
    const view = new BigUint64Array(ab);
    view[12] = 0x1122334455n;
    const value = buf(8);
    expect(mapLookup(fd, u32(12), value, 0)).toBe(true);
    expect(new DataView(value.buffer).getBigUint64(0, true)).toBe(0x1122334455n);
    new DataView(value.buffer).setBigUint64(0, 77n, true);
    mapUpdate(fd, u32(900), value, 0);
    expect(view[900]).toBe(77n);
    munmap(ab);
    expect(ab.byteLength).toBe(0);
    expect(view.length).toBe(0);
    expect(() => munmap(ab)).toThrow(/not a live mapping/);
  });

  it('refuses fds that are not maps or perf events, bad offsets, and foreign buffers', () => {
    expect(() => mmap(0, 4096, false)).toThrow(/neither a BPF map nor a perf event/);
    const fd = track(createMap(MapType.Array, 4, 8, 512, BPF_F_MMAPABLE));
    expect(() => mmap(fd, 4096, true, 100)).toThrow(/multiple of the page size/);
    expect(() => mmap(fd, 0, true)).toThrow(RangeError);
    expect(() => mmap(fd, 4096 * 16, true)).toThrow(
      expect.objectContaining({ code: 'EINVAL', command: 'mmap' }),
    );
    expect(() => munmap(new ArrayBuffer(8))).toThrow(/not a live mapping/);
    const plain = track(createMap(MapType.Array, 4, 8, 512));
    expect(() => mmap(plain, 4096, true)).toThrow(expect.objectContaining({ command: 'mmap' }));
  });

  it('lets GC unmap a forgotten mapping', () => {
    const fd = track(createMap(MapType.Array, 4, 8, 512, BPF_F_MMAPABLE));
    for (let i = 0; i < 50; i++) new Uint8Array(mmap(fd, 4096, true))[0] = i;
    (globalThis as { gc?: () => void }).gc?.();
  });
});

requireKernel('ring buffer readiness', () => {
  it('fires an FdWatcher when a program writes to a ring buffer, read through mmap', async () => {
    const page = pageSize();
    const size = 16 * page;
    const rb = track(createMap(MapType.Ringbuf, 0, 0, size));
    // *(u64 *)(r10 - 8) = 0x5eed; bpf_ringbuf_output(rb, r10 - 8, 8, 0); r0 = 2; exit
    const insns = program(
      stDw(10, -8, 0x5eed),
      ldMapFd(1, rb),
      movReg(2, 10),
      addImm(2, -8),
      movImm(3, 8),
      movImm(4, 0),
      call(130), // BPF_FUNC_ringbuf_output
      movImm(0, 2),
      exit(),
    );
    const prog = track(loadProgram(ProgType.Xdp, insns));
    let fired = 0;
    const seen = new Promise<void>((resolve) => {
      const w = new FdWatcher(rb, (error) => {
        expect(error).toBeNull();
        fired++;
        w.close();
        resolve();
      });
      w.start();
      expect(w.active).toBe(true);
    });
    expect(testRun(prog, buf(64))).toBe(2);
    await seen;
    expect(fired).toBe(1);
    const consumer = new BigUint64Array(mmap(rb, page, true, 0));
    const producerAb = mmap(rb, page + 2 * size, false, page);
    const producer = new BigUint64Array(producerAb, 0, 1);
    expect(producer[0]).toBe(16n); // one 8-byte header + 8 bytes of data
    const data = new DataView(producerAb, page);
    expect(data.getUint32(0, true)).toBe(8); // record length, not busy nor discarded
    expect(data.getBigUint64(8, true)).toBe(0x5eedn);
    consumer[0] = producer[0] as bigint;
    munmap(producerAb);
  });

  it('does not keep the loop alive when stopped; refuses closing a watched fd', () => {
    const rb = track(createMap(MapType.Ringbuf, 0, 0, 4 * pageSize()));
    const w = new FdWatcher(rb, () => {});
    w.start();
    w.unref();
    expect(() => close(rb)).toThrow(/watched by an FdWatcher/);
    w.stop();
    expect(w.active).toBe(false);
    w.close();
    w.close();
    expect(() => w.start()).toThrow(/closed/);
    expect(() => new FdWatcher(rb, 'x' as never)).toThrow(/onReadable must be a function/);
    expect(() => new FdWatcher(1_000_000, () => {})).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});
