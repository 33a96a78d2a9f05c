/**
 * W1 (hash: update, lookup, delete) and W2 (array: update, lookup): u32 → u64, 65,536 entries,
 * keys 0…65,535 ascending, each operation timed separately per run and checked (lookup value
 * must equal the key, every update/delete must succeed). One map per process.
 *
 * Layers: `sys` calls a `@ebpf/sys` map accessor (key and value in its own memory); `core` calls a raw
 * `BpfMap` (no codecs) with reused `Uint8Array` keys and values: `set(key, value)`,
 * `lookupInto(key, out)` (the allocation-free read), `delete(key)`; `core-codec` calls
 * `set(k, v)`, `get(k)`, `delete(k)` on a map with `u32` key and `u64n` value codecs (plain
 * numbers in and out).
 */
import type * as Core from '@ebpf/core';
import { buffer, check, type Layer, landed, measure } from '../harness.ts';
import { createMap, floor } from '../sys-floor.ts';

const N = 65_536;

/** Runs W1 (`hash`) or W2 (`array`) for one layer and prints its figures. */
export async function elemWorkload(kind: 'hash' | 'array', layer: Layer): Promise<void> {
  const prefix = kind === 'hash' ? 'W1.hash' : 'W2.array';
  const names = kind === 'hash' ? ['update', 'lookup', 'delete'] : ['update', 'lookup'];
  const ids = names.map((n) => `${prefix}.${n}`);
  const loops = layer === 'sys' ? await sysLoops(kind) : await coreLoops(kind, layer === 'core-codec');
  if ('reason' in loops) return measure(layer, ids, loops);
  measure(layer, ids, {
    timed: ids.map((id, i) => ({ id, unit: 'ns/op', ops: N, loop: loops.loops[i]! })),
  });
}

type Loops = { loops: (() => void)[] } | { reason: string };

/**
 * The floor: a `sys.mapAccessor` on the map, the cheapest native path for one element (keys and
 * values written into its regions, one small-integer argument per call).
 */
async function sysLoops(kind: 'hash' | 'array'): Promise<Loops> {
  const f = await floor(['mapAccessor']);
  if ('reason' in f) return f;
  const fd = createMap(f, kind === 'hash' ? f.uapi.MapType.Hash : f.uapi.MapType.Array, 4, 8, N);
  const { access, key, value } = f.sys.mapAccessor(fd);
  const { Lookup, Update, Delete } = f.sys.MapOp;
  const k32 = new Uint32Array(key.buffer, key.byteOffset, 1);
  const v32 = new Uint32Array(value.buffer, value.byteOffset, 2);
  return {
    loops: [
      () => {
        for (let k = 0; k < N; k++) {
          k32[0] = k;
          v32[0] = k;
          v32[1] = 0;
          access(Update);
        }
      },
      () => {
        for (let k = 0; k < N; k++) {
          k32[0] = k;
          v32[0] = 0xffffffff;
          if (!access(Lookup) || v32[0] !== k || v32[1] !== 0) check(false, `lookup ${k}`);
        }
      },
      () => {
        for (let k = 0; k < N; k++) {
          k32[0] = k;
          if (!access(Delete)) check(false, `delete ${k}`);
        }
      },
    ],
  };
}

async function coreLoops(kind: 'hash' | 'array', codecs: boolean): Promise<Loops> {
  const core = await landed<typeof Core>('@ebpf/core', ['BpfMap']);
  if ('reason' in core) return core;
  const { BpfMap } = core.mod;
  const spec = { type: kind, keySize: 4, valueSize: 8, maxEntries: N } as const;
  if (codecs) {
    const map = BpfMap.create({ ...spec, key: 'u32', value: 'u64n' });
    return {
      loops: [
        () => {
          for (let k = 0; k < N; k++) map.set(k, k);
        },
        () => {
          for (let k = 0; k < N; k++) if (map.get(k) !== k) check(false, `lookup ${k}`);
        },
        () => {
          for (let k = 0; k < N; k++) if (!map.delete(k)) check(false, `delete ${k}`);
        },
      ],
    };
  }
  const map = BpfMap.create(spec);
  const key = buffer(4);
  const value = buffer(8);
  const k32 = new Uint32Array(key.buffer);
  const v32 = new Uint32Array(value.buffer);
  return {
    loops: [
      () => {
        for (let k = 0; k < N; k++) {
          k32[0] = k;
          v32[0] = k;
          v32[1] = 0;
          map.set(key, value);
        }
      },
      () => {
        for (let k = 0; k < N; k++) {
          k32[0] = k;
          v32[0] = 0xffffffff;
          if (!map.lookupInto(key, value) || v32[0] !== k || v32[1] !== 0) check(false, `lookup ${k}`);
        }
      },
      () => {
        for (let k = 0; k < N; k++) {
          k32[0] = k;
          if (!map.delete(key)) check(false, `delete ${k}`);
        }
      },
    ],
  };
}
