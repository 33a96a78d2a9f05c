/**
 * W3 batch lookup: per run a fresh u32 → u64 hash map of 65,536 entries filled with k → k
 * (untimed), then 8 full walks with BPF_MAP_LOOKUP_BATCH, 4,096 entries per call, until ENOENT;
 * every walk must return all 65,536 entries with value == key. Figure: entries/s.
 * Usage: w3-batch.ts sys|core|core-codec
 */
import type * as Core from '@ebpf/core';
import { buffer, check, landed, layerArg, measure, type Prepared } from '../harness.ts';
import { createMap, fill, floor } from '../sys-floor.ts';

const N = 65_536;
const BATCH = 4_096;
const WALKS = 8;
const ID = 'W3.hash.lookup_batch';
const EXPECTED_SUM = (N * (N - 1)) / 2;

/** Checks one batch (every value equals its key) and returns the sum of its keys. */
function checkBatch(k32: Uint32Array, v32: Uint32Array, count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const k = k32[i]!;
    if (v32[2 * i] !== k || v32[2 * i + 1] !== 0) check(false, `batch value of ${k}`);
    sum += k;
  }
  return sum;
}

/** The same checks on a batch decoded by codecs: value = key; returns the sum of the keys. */
function checkDecoded(keys: number[], values: number[], count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const k = keys[i]!;
    if (values[i] !== k) check(false, `batch value of ${k}`);
    sum += k;
  }
  return sum;
}

async function sysLayer(): Promise<Prepared> {
  const f = await floor(['mapUpdate', 'close']);
  if ('reason' in f) return f;
  const { sys, uapi } = f;
  const { bpf } = sys;
  const cmd = uapi.Cmd.MapLookupBatch;
  const keys = buffer(4 * BATCH);
  const values = buffer(8 * BATCH);
  const token = buffer(8);
  const k32 = new Uint32Array(keys.buffer);
  const v32 = new Uint32Array(values.buffer);
  const a = new uapi.AttrBuffer(uapi.MapBatchAttr);
  let fd = -1;
  return {
    timed: [
      {
        id: ID,
        unit: 'ops/s',
        ops: WALKS * N,
        before() {
          fd = createMap(f, uapi.MapType.Hash, 4, 8, N);
          fill(f, fd, N);
        },
        loop() {
          for (let walk = 0; walk < WALKS; walk++) {
            let total = 0;
            let sum = 0;
            for (let first = true; ; first = false) {
              a.reset();
              if (!first) a.pointer('inBatch', token);
              a.pointer('outBatch', token);
              a.pointer('keys', keys);
              a.pointer('values', values);
              a.u32('count', BATCH);
              a.u32('mapFd', fd);
              let done = false;
              try {
                bpf(cmd, a.bytes, a.pointers);
              } catch (err) {
                if ((err as { code?: string }).code !== 'ENOENT') throw err;
                done = true;
              }
              const count = a.getU32('count');
              sum += checkBatch(k32, v32, count);
              total += count;
              if (done) break;
            }
            check(total === N && sum === EXPECTED_SUM, `walk returned ${total} entries`);
          }
        },
        after() {
          sys.close(fd);
        },
      },
    ],
  };
}

/**
 * `core`: `lookupBatchInto` (the allocation-free batch read) with a cursor and reused buffers;
 * `core-codec`: `getBatchInto` on a map with u32/u64n codecs, decoding each batch into reused
 * arrays (`getBatch`, which returns the walk as `[key, value]` pairs, allocates a pair per entry).
 */
async function coreLayer(codecs: boolean): Promise<Prepared> {
  const core = await landed<typeof Core>('@ebpf/core', ['BpfMap', 'MapBatchCursor']);
  if ('reason' in core) return core;
  const { BpfMap, MapBatchCursor } = core.mod;
  const spec = { type: 'hash', keySize: 4, valueSize: 8, maxEntries: N } as const;
  let map: Core.BpfMap<number, number> | undefined;
  const before = () => {
    map = BpfMap.create({ ...spec, key: 'u32', value: 'u64n' });
    for (let k = 0; k < N; k++) map.set(k, k);
  };
  const after = () => map!.close();
  // One walk loop for both: each layer runs in its own process, so its calls stay monomorphic.
  // `read` reads one batch and returns its count; `checkedSum` checks it and sums its keys.
  const cursor = new MapBatchCursor(4);
  const timed = (read: () => number, checkedSum: (count: number) => number): Prepared => ({
    timed: [
      {
        id: ID,
        unit: 'ops/s',
        ops: WALKS * N,
        before,
        after,
        loop() {
          for (let walk = 0; walk < WALKS; walk++) {
            cursor.reset();
            let total = 0;
            let sum = 0;
            while (!cursor.done) {
              const count = read();
              sum += checkedSum(count);
              total += count;
            }
            check(total === N && sum === EXPECTED_SUM, `walk returned ${total} entries`);
          }
        },
      },
    ],
  });
  if (codecs) {
    const keys: number[] = [];
    const values: number[] = [];
    return timed(
      () => map!.getBatchInto(cursor, keys, values, BATCH),
      (count) => checkDecoded(keys, values, count),
    );
  }
  const keys = buffer(4 * BATCH);
  const values = buffer(8 * BATCH);
  const k32 = new Uint32Array(keys.buffer);
  const v32 = new Uint32Array(values.buffer);
  return timed(
    () => map!.lookupBatchInto(cursor, keys, values, BATCH),
    (count) => checkBatch(k32, v32, count),
  );
}

const layer = layerArg(['sys', 'core', 'core-codec']);
measure(layer, [ID], layer === 'sys' ? await sysLayer() : await coreLayer(layer === 'core-codec'));
