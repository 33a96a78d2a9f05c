/**
 * Memory figures. `mem.hold_1000.rss` / `.js`: resident memory of this process after it
 * creates 1,000 hash maps (u32 → u64, 1,024 entries) and 1,000 programs (`r0 = 0; exit`), and the
 * JavaScript memory (V8 heap used + external) they take. `mem.heap_growth`: V8 heap used after 10 million map lookups (1 million
 * with --quick) minus before, both measured after a full GC: per-call allocation shows here.
 * Needs `node --expose-gc`. Usage: memory.ts sys|core [--quick]
 */
import type * as Core from '@ebpf/core';
import { buffer, check, emit, type Layer, landed, layerArg, notAvailable, quick } from '../harness.ts';
import { createMap, type Floor, fill, floor, loadProgram } from '../sys-floor.ts';

const HOLD = 1_000;
const LOOKUPS = quick ? 1_000_000 : 10_000_000;
const ENTRIES = 65_536;
const HOLD_IDS = ['mem.hold_1000.rss', 'mem.hold_1000.js'];
const HEAP_ID = 'mem.heap_growth';

const gc = (globalThis as { gc?: () => void }).gc;
check(gc, 'run with node --expose-gc');

function one(
  layer: Layer,
  id: string,
  unit: 'KiB' | 'bytes',
  value: number,
  extra?: Record<string, number>,
): void {
  emit({ impl: 'node', layer, id, unit, ops: 1, runs: [value], median: value, ...(extra ? { extra } : {}) });
}

/** V8 heap in use plus memory V8 tracks outside it (ArrayBuffers, native objects' buffers). */
function jsMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/**
 * Holds what `create` makes HOLD times, and prints the process's RSS and how much JavaScript
 * memory (V8 heap and external) the held objects take. First creates and releases a few, so code
 * compiled and state set up on first use is not counted.
 */
function hold<T>(layer: Layer, create: () => T, release: (held: T) => void): T[] {
  for (let i = 0; i < 50; i++) release(create());
  gc!();
  gc!();
  const before = jsMemory();
  const held: T[] = [];
  for (let i = 0; i < HOLD; i++) held.push(create());
  gc!();
  gc!();
  const after = jsMemory();
  one(layer, HOLD_IDS[0]!, 'KiB', process.memoryUsage().rss / 1024);
  one(layer, HOLD_IDS[1]!, 'bytes', after - before);
  return held;
}

/** Runs `lookups(n)` and prints the heap growth around it. */
function heap(layer: Layer, lookups: (n: number) => void): void {
  lookups(100_000); // warm-up: lets the JIT settle and lazily created state exist before measuring
  gc!();
  gc!();
  const before = process.memoryUsage().heapUsed;
  lookups(LOOKUPS);
  gc!();
  gc!();
  const after = process.memoryUsage().heapUsed;
  one(layer, HEAP_ID, 'bytes', after - before, { lookups: LOOKUPS, before, after });
}

const returnZero = new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

function sysLayer(f: Floor): void {
  const { sys, uapi } = f;
  const insns = buffer(16);
  insns.set(returnZero);
  hold(
    'sys',
    () => [createMap(f, uapi.MapType.Hash, 4, 8, 1024), loadProgram(f, uapi.ProgType.SocketFilter, insns)],
    (fds) => {
      for (const fd of fds) sys.close(fd);
    },
  );
  const fd = createMap(f, uapi.MapType.Hash, 4, 8, ENTRIES);
  fill(f, fd, ENTRIES);
  const key = buffer(4);
  const value = buffer(8);
  const k32 = new Uint32Array(key.buffer);
  const v32 = new Uint32Array(value.buffer);
  heap('sys', (n) => {
    for (let i = 0; i < n; i++) {
      const k = i & (ENTRIES - 1);
      k32[0] = k;
      if (!sys.mapLookup(fd, key, value, 0) || v32[0] !== k) check(false, `lookup ${k}`);
    }
  });
}

/** Holds `BpfMap`s and `BpfProgram`s; the heap figure uses `map.get(k)` with u32/u64n codecs. */
function coreLayer({ BpfMap, BpfProgram }: typeof Core): void {
  hold(
    'core',
    () =>
      [
        BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024 }),
        BpfProgram.load({ type: 'socket_filter', instructions: returnZero, license: 'GPL' }),
      ] as const,
    ([map, prog]) => {
      map.close();
      prog.close();
    },
  );
  const map = BpfMap.create({
    type: 'hash',
    keySize: 4,
    valueSize: 8,
    maxEntries: ENTRIES,
    key: 'u32',
    value: 'u64n',
  });
  for (let k = 0; k < ENTRIES; k++) map.set(k, k);
  heap('core', (n) => {
    for (let i = 0; i < n; i++) {
      const k = i & (ENTRIES - 1);
      if (map.get(k) !== k) check(false, `lookup ${k}`);
    }
  });
}

const layer = layerArg(['sys', 'core']);
if (layer === 'sys') {
  const f = await floor(['mapLookup', 'mapUpdate', 'close']);
  if ('reason' in f) notAvailable(layer, [...HOLD_IDS, HEAP_ID], f.reason);
  else sysLayer(f);
} else {
  const core = await landed<typeof Core>('@ebpf/core', ['BpfMap', 'BpfProgram']);
  if ('reason' in core) notAvailable(layer, [...HOLD_IDS, HEAP_ID], core.reason);
  else coreLayer(core.mod);
}
