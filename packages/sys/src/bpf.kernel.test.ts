import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { bpf, commandName, fdKind, objInfo, type SysError } from './index.ts';
import {
  Attr,
  BPF,
  buf,
  createMap,
  cString,
  exit,
  GPL,
  ldMapFd,
  loadProgram,
  MapType,
  movImm,
  ProgType,
  program,
  testRun,
  trackFds,
} from './test/helpers.ts';

const track = trackFds();

const xdpPass = program(movImm(0, 2), exit());

requireKernel('bpf(): programs', () => {
  it('loads r0 = 2; exit with a verifier log', () => {
    const log = buf(4096);
    const fd = track(loadProgram(ProgType.Xdp, xdpPass, log, 2));
    expect(fdKind(fd)).toBe('prog');
    expect(cString(log)).toMatch(/processed 2 insns/);
  });

  it('fails a bad program with EACCES and the verifier log', () => {
    const log = buf(4096);
    let error: SysError | undefined;
    try {
      loadProgram(ProgType.Xdp, program(exit()), log); // r0 never set
    } catch (e) {
      error = e as SysError;
    }
    expect(error?.code).toBe('EACCES');
    expect(error?.command).toBe('BPF_PROG_LOAD');
    expect(error?.hint).toMatch(/verifier/);
    expect(cString(log)).toMatch(/R0 !read_ok/);
  });

  it('test-runs XDP and copies retval and duration back into the attr', () => {
    const fd = track(loadProgram(ProgType.Xdp, xdpPass));
    expect(testRun(fd, buf(64))).toBe(2);
    const a = new Attr(80).u32(0, fd).u32(8, 64).u32(32, 1000);
    const data = buf(64);
    bpf(BPF.PROG_TEST_RUN, a.bytes, [16, data, 24, null, 48, null, 56, null]);
    expect(a.getU32(4)).toBe(2);
    // The pointer fields of the attr never receive addresses.
    expect([...a.bytes.subarray(16, 32)].every((b) => b === 0)).toBe(true);
  });

  it('checks data_out against data_size_out and refuses an unbounded data_out', () => {
    const fd = track(loadProgram(ProgType.Xdp, xdpPass));
    const a = new Attr(80).u32(0, fd).u32(8, 64).u32(12, 0).u32(32, 1);
    expect(() => bpf(BPF.PROG_TEST_RUN, a.bytes, [16, buf(64), 24, buf(64)])).toThrow(
      /data_out needs its size field/,
    );
    a.u32(12, 65);
    expect(() => bpf(BPF.PROG_TEST_RUN, a.bytes, [16, buf(64), 24, buf(64)])).toThrow(
      /data_out must be a Uint8Array of at least 65 bytes/,
    );
    a.u32(12, 64);
    const out = buf(64);
    bpf(BPF.PROG_TEST_RUN, a.bytes, [16, buf(64), 24, out]);
    expect(a.getU32(12)).toBe(64);
  });

  it('refuses insns shorter than insn_cnt, a license without NUL, a short log', () => {
    const a = new Attr(168).u32(0, ProgType.Xdp).u32(4, 3);
    expect(() => bpf(BPF.PROG_LOAD, a.bytes, [8, xdpPass, 16, GPL])).toThrow(
      /insns must be a Uint8Array of at least 24/,
    );
    a.u32(4, 2);
    expect(() => bpf(BPF.PROG_LOAD, a.bytes, [8, xdpPass, 16, new TextEncoder().encode('GPL')])).toThrow(
      /license must be a NUL-terminated string/,
    );
    a.u32(24, 1).u32(28, 100);
    expect(() => bpf(BPF.PROG_LOAD, a.bytes, [8, xdpPass, 16, GPL, 32, buf(99)])).toThrow(/log_buf/);
  });

  it('refuses offsets that are not pointer fields and unknown commands', () => {
    const a = new Attr(168).u32(0, ProgType.Xdp).u32(4, 2);
    expect(() => bpf(BPF.PROG_LOAD, a.bytes, [40, buf(8)])).toThrow(/offset 40 is not a pointer field/);
    expect(() => bpf(38, buf(16))).toThrow(/cmd 38 is not a bpf command/);
    expect(() => bpf(BPF.PROG_LOAD, buf(200))).not.toThrow(/past the/);
    const long = buf(200);
    long[180] = 1;
    expect(() => bpf(BPF.PROG_LOAD, long)).toThrow(/non-zero byte at offset 180, past the 168 bytes/);
    expect(commandName(5)).toBe('BPF_PROG_LOAD');
  });

  it('sizes fd_array by the indexes the instructions use', () => {
    const map = track(createMap(MapType.Array, 4, 8, 1));
    // r1 = fd_array[3] (BPF_PSEUDO_MAP_IDX = 5); r0 = 2; exit
    const insns = program(ldMapFd(1, 3), movImm(0, 2), exit());
    insns[1] = (5 << 4) | 1;
    const a = new Attr(168).u32(0, ProgType.Xdp).u32(4, 4);
    expect(() => bpf(BPF.PROG_LOAD, a.bytes, [8, insns, 16, GPL, 120, buf(12)])).toThrow(
      /fd_array must be a Uint8Array of at least 16 bytes/,
    );
    const fds = new Int32Array(new ArrayBuffer(16)).fill(map);
    const fd = track(bpf(BPF.PROG_LOAD, a.bytes, [8, insns, 16, GPL, 120, new Uint8Array(fds.buffer)]));
    expect(testRun(fd, buf(64))).toBe(2);
  });

  it('reads program info with nested xlated instructions and map ids', () => {
    const map = track(createMap(MapType.Array, 4, 8, 1));
    const fd = track(loadProgram(ProgType.Xdp, program(ldMapFd(1, map), movImm(0, 2), exit())));
    const info = new Attr(232);
    objInfo(fd, info.bytes);
    const xlatedLen = info.getU32(20);
    const nrMaps = info.getU32(52);
    expect(xlatedLen).toBe(32);
    expect(nrMaps).toBe(1);
    const again = new Attr(232).u32(20, xlatedLen).u32(52, nrMaps);
    const xlated = buf(xlatedLen);
    const mapIds = buf(4);
    expect(objInfo(fd, again.bytes, [32, xlated, 56, mapIds])).toBe(232);
    expect(xlated[0]).toBe(0x18); // ld_imm64 of the map
    expect(new DataView(mapIds.buffer).getUint32(0, true)).toBeGreaterThan(0);
    expect([...again.bytes.subarray(32, 40)].every((b) => b === 0)).toBe(true);
    // Counts larger than the buffers are refused before the kernel sees them.
    again.u32(52, 2);
    expect(() => objInfo(fd, again.bytes, [56, mapIds])).toThrow(
      /map_ids must be a Uint8Array of at least 8 bytes/,
    );
    // Through bpf(): nested pointers of the info struct are zeroed, so junk addresses never reach the kernel.
    const junk = new Attr(232).u32(20, 4096).u32(52, 100);
    junk.u64(32, 0xdeadbeefn).u64(56, 0x1234n);
    const attr = new Attr(16).u32(0, fd).u32(4, 232);
    expect(bpf(BPF.OBJ_GET_INFO_BY_FD, attr.bytes, [8, junk.bytes])).toBe(0);
    expect(junk.getU32(20)).toBe(32);
  });

  it('refuses info of a non-BPF fd and info_len larger than the buffer', () => {
    expect(() => objInfo(0, buf(64))).toThrow(/not a BPF program, map, link or BTF/);
    const map = track(createMap(MapType.Array, 4, 8, 1));
    const attr = new Attr(16).u32(0, map).u32(4, 200);
    expect(() => bpf(BPF.OBJ_GET_INFO_BY_FD, attr.bytes, [8, buf(104)])).toThrow(
      /at least 200 bytes \(info_len\)/,
    );
    const info = buf(128);
    info[120] = 1;
    expect(() => objInfo(map, info)).toThrow(/past the 104 bytes/);
  });

  it('BPF_LINK_CREATE: the union follows the attach type; lengths and strings checked', () => {
    const enc = (t: string): Uint8Array => new TextEncoder().encode(t);
    const load = (expectedAttachType: number): number => {
      const a = new Attr(168).u32(0, 2 /* KPROBE */).u32(4, 2).u32(68, expectedAttachType);
      return track(bpf(BPF.PROG_LOAD, a.bytes, [8, program(movImm(0, 0), exit()), 16, GPL]));
    };
    // uprobe_multi (48): the kernel reads the path through our pointer: ENOENT, not EFAULT.
    const uprobe = load(48);
    const um = new Attr(64).u32(0, uprobe).u32(8, 48).u32(48, 1);
    expect(() => bpf(BPF.LINK_CREATE, um.bytes, [16, enc('/nonexistent/ebpf-sys\0'), 24, buf(8)])).toThrow(
      expect.objectContaining({ code: 'ENOENT', command: 'BPF_LINK_CREATE' }),
    );
    expect(() => bpf(BPF.LINK_CREATE, um.bytes, [16, enc('/bin/true'), 24, buf(8)])).toThrow(
      /uprobe_multi.path must be a NUL-terminated string/,
    );
    um.u32(48, 2);
    expect(() => bpf(BPF.LINK_CREATE, um.bytes, [16, enc('/bin/true\0'), 24, buf(8)])).toThrow(
      /uprobe_multi.offsets must be a Uint8Array of at least 16 bytes/,
    );
    // kprobe_multi (42): syms are names back to back; native builds the pointer array.
    const km = new Attr(64).u32(0, uprobe).u32(8, 42).u32(20, 2);
    expect(() => bpf(BPF.LINK_CREATE, km.bytes, [24, enc('a\0')])).toThrow(
      /2 NUL-terminated names back to back, found 1/,
    );
    let error: SysError | undefined;
    try {
      bpf(BPF.LINK_CREATE, km.bytes, [24, enc('no_such_fn_a\0no_such_fn_b\0')]);
    } catch (e) {
      error = e as SysError;
    }
    expect(error?.command).toBe('BPF_LINK_CREATE');
    expect(error?.code).not.toBe('EFAULT');
    // An iterator's info (28) is bounded by iter_info_len; other attach types have no pointers.
    const it28 = new Attr(64).u32(8, 28).u32(24, 16);
    expect(() => bpf(BPF.LINK_CREATE, it28.bytes, [16, buf(8)])).toThrow(
      /iter_info must be a Uint8Array of at least 16/,
    );
    const xdp = new Attr(64).u32(8, 37);
    expect(() => bpf(BPF.LINK_CREATE, xdp.bytes, [16, buf(8)])).toThrow(/offset 16 is not a pointer field/);
    xdp.u64(24, 0xdeadbeefn); // raw bytes at 24 are a plain value (e.g. tracing.cookie) there
    // Null pairs at the union's pointer slots are fine; the kernel refuses prog fd 0 (stdin).
    expect(() => bpf(BPF.LINK_CREATE, xdp.bytes, [16, null, 24, null])).toThrow(
      expect.objectContaining({ code: 'EINVAL', command: 'BPF_LINK_CREATE' }),
    );
  });
});
