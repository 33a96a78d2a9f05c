/**
 * W5 ring buffer: 16 MiB BPF_MAP_TYPE_RINGBUF filled (untimed) by one test run, repeat 8,192, of
 * an XDP program calling bpf_ringbuf_output 64 times with `{ u64 i, u64 0x5eed }`: 524,288
 * records. Timed: consume them all, summing each record's first u64; count and sum checked.
 * Figure: events/s. `sys`: JavaScript walking the ring mapped with `@ebpf/sys` mmap (the way the
 * C baseline does); `core`: the `@ebpf/core` ring buffer reader. Usage: w5-ringbuf.ts sys|core
 */
import { layerArg, measure, type Prepared } from '../harness.ts';

const ID = 'W5.ringbuf.consume';

async function sysLayer(): Promise<Prepared> {
  return { reason: 'waiting for @ebpf/sys mmap' };
}

async function coreLayer(): Promise<Prepared> {
  return { reason: 'waiting for @ebpf/core ring buffer reader' };
}

const layer = layerArg(['sys', 'core']);
measure(layer, [ID], layer === 'sys' ? await sysLayer() : await coreLayer());
