/**
 * W7 perf buffer: a BPF_MAP_TYPE_PERF_EVENT_ARRAY with one perf event per possible CPU, 64 data
 * pages each, woken on every sample. Timed: test runs (repeat 64) of the W5 producer writing with
 * bpf_perf_event_output (BPF_F_CURRENT_CPU) until 65,536 records are produced, consumed as they
 * come; received + lost must equal produced. Figure: records/s. `core`: `PerfBuffer.consume`;
 * `core-next` (information): `next()`, a copy per record. The C baseline is libbpf's
 * perf_buffer__consume (c/libbpf.c). Usage: w7-perf.ts core|core-next
 */
import type * as Core from '@ebpf/core';
import { check, landed, layerArg, measure, type Prepared } from '../harness.ts';
import { eventProducerProgram } from '../programs.ts';

const ID = 'W7.perf.consume';
const RECORDS = 65_536;
const REPEAT = 64; // 64 × 64 = 4,096 records per test run: half a CPU's ring

async function coreLayer(next: boolean): Promise<Prepared> {
  const core = await landed<typeof Core>('@ebpf/core', [
    'BpfMap',
    'BpfProgram',
    'PerfBuffer',
    'possibleCpus',
  ]);
  if ('reason' in core) return core;
  const { BpfMap, BpfProgram, PerfBuffer, possibleCpus } = core.mod;
  const cpus = Array.from({ length: possibleCpus() }, (_, cpu) => cpu);
  const map = BpfMap.create({ type: 'perf_event_array', maxEntries: cpus.length });
  const prog = BpfProgram.load({
    type: 'xdp',
    instructions: eventProducerProgram(map.fd, true),
    license: 'GPL',
  });
  const reader = new PerfBuffer(map, { pageCount: 64, cpus });
  const runner = prog.testRunner({ dataSize: 64, repeat: REPEAT });
  let sum = 0;
  let count = 0;
  const onRecord = (record: Core.RingRecord): void => {
    sum += record.u64n(0);
    count++;
  };
  const drain = next
    ? () => {
        for (let s = reader.next(); s; s = reader.next()) {
          const b = s.data;
          sum += (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 2 ** 24; // < 2^32 here
          count++;
        }
      }
    : () => reader.consume(onRecord);
  return {
    timed: [
      {
        id: ID,
        unit: 'ops/s',
        ops: RECORDS,
        loop() {
          sum = 0;
          count = 0;
          const lostBefore = reader.lost;
          let produced = 0;
          while (produced < RECORDS) {
            check(runner.run() === 2, 'fill retval');
            produced += REPEAT * 64;
            drain();
          }
          const lost = reader.lost - lostBefore;
          check(
            count + lost === produced && (lost > 0 || sum === (produced / 64) * 2016),
            `received ${count} + lost ${lost} of ${produced}`,
          );
        },
      },
    ],
  };
}

const layer = layerArg(['core', 'core-next']);
measure(layer, [ID], await coreLayer(layer === 'core-next'));
