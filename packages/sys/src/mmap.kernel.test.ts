import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { collectUntil, requireKernel, skipUnsupported } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import {
  bpf,
  close,
  FdWatcher,
  mapLookup,
  mapUpdate,
  mmap,
  mmapPerfRingUnchecked,
  mmapReadOnlyUnchecked,
  munmap,
  pageSize,
  perfEventOpen,
} from './index.ts';
import { packageRoot } from './native.ts';
import {
  Attr,
  BPF,
  buf,
  createMap,
  loadProgram,
  MapType,
  ProgType,
  ringbufProducer,
  testRun,
  trackFds,
  u32,
} from './test/helpers.ts';

const track = trackFds();

const BPF_F_MMAPABLE = 1 << 10;
const BPF_F_SEGV_ON_FAULT = 1 << 17;

/** Why arenas cannot be made here, if they cannot: some 6.18 builds refuse them to root (EPERM). */
function arenaRefused(): string | undefined {
  try {
    close(createMap(MapType.Arena, 0, 0, 1, BPF_F_MMAPABLE));
    return undefined;
  } catch (error) {
    if ((error as { code?: string }).code !== 'EPERM') throw error;
    return 'arena: the kernel refused creating arena maps with EPERM although privileged';
  }
}

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
    expect(() => mmap(0, 4096, true)).toThrow(/neither a BPF map nor a perf event/);
    expect(() => mmapReadOnlyUnchecked(0, 4096)).toThrow(/neither a BPF map nor a perf event/);
    const array = track(createMap(MapType.Array, 4, 8, 512, BPF_F_MMAPABLE));
    // @ts-expect-error: writable is typed `true`; plain JS callers get the TypeError.
    expect(() => mmap(array, 4096, false)).toThrow(/writable mappings only.*mmapReadOnlyUnchecked/);
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

  it.skipIf(skipUnsupported(arenaRefused(), 'arena'))(
    'maps an arena writable on every page; refuses one made with BPF_F_SEGV_ON_FAULT',
    () => {
      const page = pageSize();
      const arena = track(createMap(MapType.Arena, 0, 0, 4, BPF_F_MMAPABLE));
      const bytes = new Uint8Array(mmap(arena, 4 * page, true));
      for (let i = 0; i < bytes.length; i += page) bytes[i] = 0xab; // each page appears on first touch
      expect(bytes[3 * page]).toBe(0xab);
      munmap(bytes.buffer as ArrayBuffer);
      const segv = track(createMap(MapType.Arena, 0, 0, 4, BPF_F_MMAPABLE | BPF_F_SEGV_ON_FAULT));
      expect(() => mmap(segv, 4 * page, true)).toThrow(/BPF_F_SEGV_ON_FAULT/);
      expect(() => mmapReadOnlyUnchecked(segv, 4 * page)).toThrow(/BPF_F_SEGV_ON_FAULT/);
    },
  );

  it('maps a frozen map only through mmapReadOnlyUnchecked, which reads it', () => {
    const fd = track(createMap(MapType.Array, 4, 8, 512, BPF_F_MMAPABLE));
    mapUpdate(fd, u32(3), new Uint8Array(new BigUint64Array([99n]).buffer), 0);
    bpf(BPF.MAP_FREEZE, new Attr(8).u32(0, fd).bytes, []);
    expect(() => mmap(fd, 4096, true)).toThrow(expect.objectContaining({ code: 'EPERM', command: 'mmap' }));
    const ro = mmapReadOnlyUnchecked(fd, 4096);
    expect(new BigUint64Array(ro)[3]).toBe(99n);
    munmap(ro);
  });

  it('maps only the metadata page of a perf event writable (its data pages fault on writes)', () => {
    const page = pageSize();
    const attr = buf(128);
    const v = new DataView(attr.buffer);
    v.setUint32(0, 1, true); // PERF_TYPE_SOFTWARE
    v.setUint32(4, 128, true);
    v.setBigUint64(8, 9n, true); // PERF_COUNT_SW_DUMMY
    v.setBigUint64(40, 1n, true); // disabled
    const perf = track(perfEventOpen(attr, 0, -1, -1, 0));
    expect(() => mmap(perf, 3 * page, true)).toThrow(/only the first page/);
    const ring = mmapReadOnlyUnchecked(perf, 3 * page); // 1 + 2 pages
    expect(new Uint8Array(ring)[2 * page]).toBe(0); // every page reads
    munmap(ring);
    const meta = mmap(perf, page, true);
    new Uint8Array(meta)[page - 1] = 1;
    munmap(meta);
  });

  it('mmapPerfRingUnchecked maps a whole perf ring read-write (its metadata page takes writes)', () => {
    const page = pageSize();
    const attr = buf(128);
    const v = new DataView(attr.buffer);
    v.setUint32(0, 1, true); // PERF_TYPE_SOFTWARE
    v.setUint32(4, 128, true);
    v.setBigUint64(8, 10n, true); // PERF_COUNT_SW_BPF_OUTPUT
    const perf = track(perfEventOpen(attr, -1, 0, -1, 0));
    expect(() => mmapPerfRingUnchecked(perf, 4 * page)).toThrow(/1 \+ 2\^n pages/); // 3 data pages
    expect(() => mmapPerfRingUnchecked(perf, page)).toThrow(RangeError);
    const array = track(createMap(MapType.Array, 4, 8, 1));
    expect(() => mmapPerfRingUnchecked(array, 2 * page)).toThrow(/not a perf event fd/);
    const ring = mmapPerfRingUnchecked(perf, 5 * page);
    const meta = new BigUint64Array(ring, 0, page / 8);
    expect(meta[1040 / 8]).toBe(BigInt(page)); // data_offset: the data starts after one page
    expect(meta[1048 / 8]).toBe(BigInt(4 * page)); // data_size
    meta[1032 / 8] = 0n; // data_tail, the reader's to write
    munmap(ring);
  });

  it('mmapReadOnlyUnchecked is what its name says: a JS write kills the process', () => {
    // In a child, so that the crash the name warns of is observed, not suffered.
    const script = `
      const sys = require('node-gyp-build')(${JSON.stringify(packageRoot)});
      const a = new Uint8Array(96), d = new DataView(a.buffer);
      d.setUint32(0, 2, true); d.setUint32(4, 4, true); d.setUint32(8, 8, true); d.setUint32(12, 512, true); d.setUint32(16, ${BPF_F_MMAPABLE}, true);
      const fd = sys.bpf(0, a, []);
      const bytes = new Uint8Array(sys.mmapReadOnlyUnchecked(fd, 4096));
      console.log('read', bytes[0]);
      bytes[0] = 1;
      console.log('survived');`;
    // `ulimit -c 0`: no core file left behind; no sanitizer runtime (scripts/asan.sh preloads
    // one, whose SEGV handler would turn the signal into an abort).
    const run = spawnSync('sh', ['-c', 'ulimit -c 0; exec "$0" -e "$1"', process.execPath, script], {
      cwd: packageRoot,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '', LD_PRELOAD: '', EBPF_SYS_NATIVE: '' },
    });
    expect(run.stdout).toContain('read 0');
    expect(run.stdout).not.toContain('survived');
    expect(run.signal).toBe('SIGSEGV');
  });

  it('lets GC unmap a forgotten mapping', async () => {
    // Each mapping is a line of /proc/self/maps naming the map's anonymous inode.
    const mappings = () =>
      readFileSync('/proc/self/maps', 'utf8')
        .split('\n')
        .filter((l) => l.includes('bpf-map')).length;
    const fd = track(createMap(MapType.Array, 4, 8, 512, BPF_F_MMAPABLE));
    const before = mappings();
    for (let i = 0; i < 50; i++) new Uint8Array(mmap(fd, 4096, true))[0] = i;
    expect(mappings()).toBeGreaterThanOrEqual(before + 50);
    expect(await collectUntil(() => mappings() <= before)).toBe(true);
  });
});

requireKernel('ring buffer readiness', () => {
  it('fires an FdWatcher when a program writes to a ring buffer, read through mmap', async () => {
    const page = pageSize();
    const size = 16 * page;
    const rb = track(createMap(MapType.Ringbuf, 0, 0, size));
    const prog = track(loadProgram(ProgType.Xdp, ringbufProducer(rb)));
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
    // The kernel maps ring buffer data read-only only: the checked mmap() is refused.
    expect(() => mmap(rb, page + 2 * size, true, page)).toThrow(
      expect.objectContaining({ code: 'EPERM', command: 'mmap' }),
    );
    const producerAb = mmapReadOnlyUnchecked(rb, page + 2 * size, page);
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
