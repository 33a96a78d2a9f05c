/**
 * Untimed set-up for the `sys` layer (our native floor): maps and programs created through
 * `@ebpf/sys`'s checked `bpf()` with attr buffers laid out by `@ebpf/uapi`, so the floor rows
 * depend on nothing in `@ebpf/core`.
 */
import type * as Sys from '@ebpf/sys';
import type * as Uapi from '@ebpf/uapi';
import { buffer, check, landed } from './harness.ts';

/** The two packages the sys layer needs. */
export interface Floor {
  sys: typeof Sys;
  uapi: typeof Uapi;
}

/** Imports `@ebpf/sys` (with the functions `needed` beyond `bpf`) and `@ebpf/uapi`, or says which is missing. */
export async function floor(needed: readonly string[] = []): Promise<Floor | { reason: string }> {
  const sys = await landed<Floor['sys']>('@ebpf/sys', ['bpf', ...needed]);
  if ('reason' in sys) return sys;
  const uapi = await landed<Floor['uapi']>('@ebpf/uapi', ['AttrBuffer', 'Cmd', 'MapType', 'ProgType']);
  if ('reason' in uapi) return uapi;
  return { sys: sys.mod, uapi: uapi.mod };
}

/** Creates a map with `bpf(BPF_MAP_CREATE)`; returns its fd. */
export function createMap(
  { sys, uapi }: Floor,
  type: number,
  keySize: number,
  valueSize: number,
  maxEntries: number,
  flags = 0,
): number {
  const a = new uapi.AttrBuffer(uapi.MapCreateAttr);
  a.u32('mapType', type);
  a.u32('keySize', keySize);
  a.u32('valueSize', valueSize);
  a.u32('maxEntries', maxEntries);
  a.u32('mapFlags', flags);
  return sys.bpf(uapi.Cmd.MapCreate, a.bytes, a.pointers);
}

const license = new TextEncoder().encode('GPL\0');

/** Loads raw instruction bytes with `bpf(BPF_PROG_LOAD)`; returns the fd and the verifier log. */
export function loadProgram(
  { sys, uapi }: Floor,
  type: number,
  insns: Uint8Array,
  logLevel = 0,
  log: Uint8Array | null = null,
): number {
  const a = new uapi.AttrBuffer(uapi.ProgLoadAttr);
  a.u32('progType', type);
  a.u32('insnCnt', insns.length / 8);
  a.pointer('insns', insns);
  a.pointer('license', license);
  if (log) {
    a.u32('logLevel', logLevel);
    a.u32('logSize', log.length);
    a.pointer('logBuf', log);
  }
  return sys.bpf(uapi.Cmd.ProgLoad, a.bytes, a.pointers);
}

/** Fills a u32 → u64 map with k → k for k in [0, n). */
export function fill({ sys }: Floor, fd: number, n: number): void {
  const key = buffer(4);
  const value = buffer(8);
  const k32 = new Uint32Array(key.buffer);
  const v32 = new Uint32Array(value.buffer);
  for (let k = 0; k < n; k++) {
    k32[0] = k;
    v32[0] = k;
    sys.mapUpdate(fd, key, value, 0);
  }
  check(true, 'fill');
}
