/**
 * Test helpers: attrs laid out by hand from the uapi ABI (so these tests do not depend on
 * `@ebpf/uapi`), a few hand-encoded instructions, and map/program set-up through `bpf()`.
 */
import { afterEach } from 'vitest';
import { bpf, close } from '../index.ts';

/** Command numbers (enum bpf_cmd). */
export const BPF = {
  MAP_CREATE: 0,
  MAP_LOOKUP_ELEM: 1,
  MAP_UPDATE_ELEM: 2,
  MAP_DELETE_ELEM: 3,
  MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5,
  OBJ_PIN: 6,
  OBJ_GET: 7,
  PROG_TEST_RUN: 10,
  MAP_GET_FD_BY_ID: 14,
  OBJ_GET_INFO_BY_FD: 15,
  MAP_FREEZE: 22,
  MAP_LOOKUP_BATCH: 24,
  MAP_UPDATE_BATCH: 26,
  LINK_CREATE: 28,
} as const;

/**
 * Closes, after each test of the calling file, every fd handed to the returned `track` (which
 * returns the fd it is given). Fds already closed by the test are skipped quietly.
 */
export function trackFds(): (fd: number) => number {
  const open: number[] = [];
  afterEach(() => {
    for (const fd of open.splice(0)) {
      try {
        close(fd);
      } catch {}
    }
  });
  return (fd) => {
    open.push(fd);
    return fd;
  };
}

/** A little-endian u32 in a fresh off-heap buffer (a key or value). */
export function u32(n: number): Uint8Array {
  const b = buf(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

/** An off-heap Uint8Array (its address is stable from the start). */
export function buf(n: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(n));
}

/** A little-endian attr writer over a fixed-size buffer. */
export class Attr {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  constructor(size: number) {
    this.bytes = buf(size);
    this.view = new DataView(this.bytes.buffer);
  }
  u32(offset: number, v: number): this {
    this.view.setUint32(offset, v, true);
    return this;
  }
  u64(offset: number, v: bigint): this {
    this.view.setBigUint64(offset, v, true);
    return this;
  }
  getU32(offset: number): number {
    return this.view.getUint32(offset, true);
  }
}

/** BPF_MAP_CREATE through bpf(); returns the fd. */
export function createMap(
  type: number,
  keySize: number,
  valueSize: number,
  maxEntries: number,
  flags = 0,
): number {
  const a = new Attr(96).u32(0, type).u32(4, keySize).u32(8, valueSize).u32(12, maxEntries).u32(16, flags);
  return bpf(BPF.MAP_CREATE, a.bytes, []);
}

/** Encodes one instruction: code, dst, src, off, imm. */
export function insn(code: number, dst: number, src: number, off: number, imm: number): Uint8Array {
  const b = buf(8);
  const v = new DataView(b.buffer);
  b[0] = code;
  b[1] = (src << 4) | dst;
  v.setInt16(2, off, true);
  v.setInt32(4, imm, true);
  return b;
}

/** Concatenates instructions. */
export function program(...insns: Uint8Array[]): Uint8Array {
  const out = buf(insns.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of insns) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** `r0 = imm` (BPF_ALU64 | BPF_MOV | BPF_K). */
export const movImm = (dst: number, imm: number): Uint8Array => insn(0xb7, dst, 0, 0, imm);
/** `exit`. */
export const exit = (): Uint8Array => insn(0x95, 0, 0, 0, 0);
/** `dst = src` (64-bit). */
export const movReg = (dst: number, src: number): Uint8Array => insn(0xbf, dst, src, 0, 0);
/** `dst += imm` (64-bit). */
export const addImm = (dst: number, imm: number): Uint8Array => insn(0x07, dst, 0, 0, imm);
/** `*(u64 *)(dst + off) = imm`. */
export const stDw = (dst: number, off: number, imm: number): Uint8Array => insn(0x7a, dst, 0, off, imm);
/** `call helper`. */
export const call = (id: number): Uint8Array => insn(0x85, 0, 0, 0, id);
/** `dst = map fd` (ld_imm64 with BPF_PSEUDO_MAP_FD): two slots. */
export function ldMapFd(dst: number, fd: number): Uint8Array {
  return program(insn(0x18, dst, 1, 0, fd), insn(0, 0, 0, 0, 0));
}

/** An XDP program writing `{ u64 0x5eed }` to the ring buffer `rb` once per run (returns XDP_PASS). */
export function ringbufProducer(rb: number): Uint8Array {
  return program(
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
}

export const GPL = new TextEncoder().encode('GPL\0');

/** BPF_PROG_LOAD through bpf(); returns the fd (the log, if given, is filled). */
export function loadProgram(type: number, insns: Uint8Array, log?: Uint8Array, logLevel = 1): number {
  const a = new Attr(168).u32(0, type).u32(4, insns.length / 8);
  const pointers: (number | Uint8Array | null)[] = [8, insns, 16, GPL];
  if (log) {
    a.u32(24, logLevel).u32(28, log.length);
    pointers.push(32, log);
  }
  return bpf(BPF.PROG_LOAD, a.bytes, pointers);
}

/** BPF_PROG_TEST_RUN of `fd` over `data`; returns retval. */
export function testRun(fd: number, data: Uint8Array, repeat = 1): number {
  const a = new Attr(80).u32(0, fd).u32(8, data.length).u32(32, repeat);
  bpf(BPF.PROG_TEST_RUN, a.bytes, [16, data]);
  return a.getU32(4);
}

/** The C string at the start of `b`. */
export function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}

export const MapType = {
  Hash: 1,
  Array: 2,
  PercpuHash: 5,
  PercpuArray: 6,
  Queue: 22,
  Ringbuf: 27,
  Arena: 33,
} as const;
export const ProgType = { SocketFilter: 1, Tracepoint: 5, Xdp: 6 } as const;
