/**
 * W3 batch lookup: per run a fresh u32 → u64 hash map of 65,536 entries filled with k → k
 * (untimed), then 8 full walks with BPF_MAP_LOOKUP_BATCH, 4,096 entries per call, until ENOENT;
 * every walk must return all 65,536 entries with value == key. Figure: entries/s.
 * Usage: w3-batch.ts sys|core
 */
import { buffer, check, layerArg, measure, type Prepared } from '../harness.ts';
import { createMap, fill, floor } from '../sys-floor.ts';

const N = 65_536;
const BATCH = 4_096;
const WALKS = 8;
const ID = 'W3.hash.lookup_batch';
const EXPECTED_SUM = (N * (N - 1)) / 2;

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
              for (let i = 0; i < count; i++) {
                const k = k32[i]!;
                if (v32[2 * i] !== k || v32[2 * i + 1] !== 0) check(false, `batch value of ${k}`);
                sum += k;
              }
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

async function coreLayer(): Promise<Prepared> {
  return { reason: 'waiting for @ebpf/core BpfMap.getBatch' };
}

const layer = layerArg(['sys', 'core']);
measure(layer, [ID], layer === 'sys' ? await sysLayer() : await coreLayer());
