/**
 * The producer programs of the ring and perf buffer kernel tests: one program shape writing the
 * same struct, through `bpf_ringbuf_output` or `bpf_perf_event_output`.
 */
import {
  add64,
  call,
  exit,
  type Instruction,
  jeq,
  jlt,
  type Label,
  label,
  ldMapFd,
  ldxdw,
  mov32,
  mov64,
  R0,
  R1,
  R2,
  R3,
  R4,
  R5,
  R6,
  R7,
  R8,
  R10,
  stdw,
  stw,
  stxdw,
} from '@ebpf/asm';
import { struct } from '../codec/index.ts';
import type { BpfMap } from '../map/index.ts';
import { BpfProgram, type MapLike } from '../program/index.ts';

/** The struct every producer writes (or its first `size` bytes), `i` counting 0…perRun-1. */
export const sampleCodec = struct({ i: 'u64n', seed: 'u64n', magic: 'u32', minusOne: 'i32' });

/** What a producer writes with: a ringbuf map or a perf event array. */
export type Output = 'ringbuf' | 'perf';

export interface ProducerOptions {
  /** Records written per run (default 1). */
  readonly perRun?: number | undefined;
  /** Bytes of the struct written, at most its 24 (default 16). */
  readonly size?: number | undefined;
  /** Program type: a raw_tracepoint one can be run on a chosen CPU (default 'xdp'). */
  readonly type?: 'xdp' | 'raw_tracepoint' | undefined;
  /** With this, the program adds the records the full ring or perf ring refused to `lost[0]`. */
  readonly lost?: BpfMap<number, bigint> | undefined;
}

/** Writes the struct at r10-24 with the output's helper (context in R6); R0 = the helper's result. */
function output(kind: Output, size: number): (Instruction | Label)[] {
  return kind === 'ringbuf'
    ? [
        ldMapFd(R1, 'events'),
        mov64(R2, R10),
        add64(R2, -24),
        mov64(R3, size),
        mov64(R4, 0),
        call('ringbuf_output'),
      ]
    : [
        mov64(R1, R6),
        ldMapFd(R2, 'events'),
        mov32(R3, -1), // BPF_F_CURRENT_CPU (0xffffffff, zero-extended)
        mov64(R4, R10),
        add64(R4, -24),
        mov64(R5, size),
        call('perf_event_output'),
      ];
}

/** Adds R8 (the records refused) to `lost[0]`. */
const countLost: (Instruction | Label)[] = [
  stw(R10, -28, 0),
  ldMapFd(R1, 'lost'),
  mov64(R2, R10),
  add64(R2, -28),
  call('map_lookup_elem'),
  jeq(R0, 0, 'out'),
  ldxdw(R1, R0, 0),
  add64(R1, R8),
  stxdw(R0, 0, R1),
  label('out'),
];

/**
 * A program writing `perRun` records per run into `events` (on the CPU it runs on, for perf):
 * the first `size` bytes of `{ u64 i, u64 0x5eed, u32 0x04030201, u32 0xffffffff }`.
 */
export function producer(kind: Output, events: MapLike, options: ProducerOptions = {}): BpfProgram {
  const { perRun = 1, size = 16, type = 'xdp', lost } = options;
  return BpfProgram.load({
    type,
    license: 'GPL',
    maps: lost ? { events, lost } : { events },
    instructions: [
      mov64(R6, R1),
      mov64(R7, 0),
      mov64(R8, 0),
      label('loop'),
      stxdw(R10, -24, R7),
      stdw(R10, -16, 0x5eed),
      stw(R10, -8, 0x04030201),
      stw(R10, -4, -1),
      ...output(kind, size),
      jeq(R0, 0, 'written'),
      add64(R8, 1),
      label('written'),
      add64(R7, 1),
      jlt(R7, perRun, 'loop'),
      ...(lost ? countLost : []),
      mov64(R0, 2),
      exit(),
    ],
  });
}

/** A ringbuf producer (see {@link producer}); with `lost`, it counts the records refused there. */
export function ringProducer(
  events: MapLike,
  perRun?: number,
  size?: number,
  lost?: BpfMap<number, bigint>,
): BpfProgram {
  return producer('ringbuf', events, { perRun, size, lost });
}

/** A perf event array producer (see {@link producer}) of program `type`. */
export function perfProducer(
  events: MapLike,
  perRun?: number,
  size?: number,
  type?: 'xdp' | 'raw_tracepoint',
): BpfProgram {
  return producer('perf', events, { perRun, size, type });
}

/** The packet XDP producers are run with. */
export const packet = new Uint8Array(64);
