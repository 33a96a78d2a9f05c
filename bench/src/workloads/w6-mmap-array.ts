/**
 * W6 mmapable array: u32 → u64, 65,536 entries, BPF_F_MMAPABLE, mapped read-write shared, accessed
 * through a 32-bit typed view (each u64 element is two u32 halves). `write`: 64 passes storing
 * i + pass into element i; `read`: 64 passes summing all elements (checked); then element 12,345
 * read through BPF_MAP_LOOKUP_ELEM must be 12,345 + 63. Figures: element operations/s.
 * Usage: w6-mmap-array.ts sys|core
 */
import type * as Core from '@ebpf/core';
import { buffer, check, landed, layerArg, measure, type Prepared } from '../harness.ts';
import { createMap, floor } from '../sys-floor.ts';

const N = 65_536;
const PASSES = 64;
const IDS = ['W6.mmap_array.write', 'W6.mmap_array.read'];
const TWO32 = 2 ** 32;
/** BPF_F_MMAPABLE. */
const MMAPABLE = 0x400;
let expected = 0;
for (let i = 0; i < N; i++) expected += i + PASSES - 1;
expected *= PASSES;

/** The two timed loops over a 32-bit view of the mapped array; `lookup` reads element 12,345 via the syscall. */
function loops(u32: Uint32Array, lookup: (key: number) => number): Prepared {
  return {
    timed: [
      {
        id: IDS[0]!,
        unit: 'ops/s',
        ops: PASSES * N,
        loop() {
          for (let pass = 0; pass < PASSES; pass++) {
            for (let i = 0, j = 0; i < N; i++, j += 2) {
              u32[j] = i + pass;
              u32[j + 1] = 0;
            }
          }
        },
      },
      {
        id: IDS[1]!,
        unit: 'ops/s',
        ops: PASSES * N,
        loop() {
          // Low and high halves summed apart: the u64 sum is lo + hi * 2^32 (exact below 2^53).
          let lo = 0;
          let hi = 0;
          for (let pass = 0; pass < PASSES; pass++) {
            for (let i = 0; i < 2 * N; i += 2) {
              lo += u32[i]!;
              hi += u32[i + 1]!;
            }
          }
          const sum = lo + hi * TWO32;
          check(sum === expected, `read sum ${sum}`);
        },
        after() {
          const v = lookup(12_345);
          check(v === 12_345 + PASSES - 1, `element 12345 is ${v}`);
        },
      },
    ],
  };
}

async function sysLayer(): Promise<Prepared> {
  const f = await floor(['mmap', 'mapLookup']);
  if ('reason' in f) return f;
  const { sys, uapi } = f;
  const fd = createMap(f, uapi.MapType.Array, 4, 8, N, uapi.MapFlags.Mmapable);
  const mem = sys.mmap(fd, N * 8, true);
  const key = buffer(4);
  const value = buffer(8);
  return loops(new Uint32Array(mem), (k) => {
    new Uint32Array(key.buffer)[0] = k;
    check(sys.mapLookup(fd, key, value, 0), 'lookup');
    const v = new Uint32Array(value.buffer);
    return v[0]! + v[1]! * TWO32;
  });
}

/** `map.memory().u32`: the typed view `@ebpf/core` hands out on the mapped values. */
async function coreLayer(): Promise<Prepared> {
  const core = await landed<typeof Core>('@ebpf/core', ['BpfMap']);
  if ('reason' in core) return core;
  const map = core.mod.BpfMap.create({
    type: 'array',
    keySize: 4,
    valueSize: 8,
    maxEntries: N,
    flags: MMAPABLE,
    key: 'u32',
    value: 'u64n',
  });
  return loops(map.memory().u32, (k) => map.get(k) ?? -1);
}

const layer = layerArg(['sys', 'core']);
measure(layer, IDS, layer === 'sys' ? await sysLayer() : await coreLayer());
