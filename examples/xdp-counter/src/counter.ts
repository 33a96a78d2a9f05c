/**
 * The example of @ebpf/core's README: count the packets and bytes arriving at a network
 * interface with an XDP program built with @ebpf/asm, and read the counts from a map.
 */
import {
  add64,
  atomicAdd64,
  call,
  exit,
  jeq,
  label,
  ldMapFd,
  ldxw,
  mov64,
  R0,
  R1,
  R2,
  R6,
  R7,
  R10,
  stw,
  sub64,
} from '@ebpf/asm';
import { attachXdp, BpfMap, BpfProgram } from '@ebpf/core';
import { XdpAction } from '@ebpf/uapi';

/** Slot 0 of the `counts` array counts packets, slot 1 bytes. */
export const PACKETS = 0;
export const BYTES = 1;

/** counts[slot] += r7 (r0, r1, r2 are clobbered; r6, r7 kept). */
function addTo(slot: number, label_: string) {
  return [
    stw(R10, -4, slot), // key = slot, on the stack
    mov64(R2, R10),
    add64(R2, -4),
    ldMapFd(R1, 'counts'),
    call('map_lookup_elem'), // r0 = &counts[slot] or NULL
    jeq(R0, 0, label_),
    atomicAdd64(R0, 0, R7), // lock *(u64 *)(r0 + 0) += r7
    label(label_),
  ];
}

/** The XDP program: count the packet and its length, then let it through. */
export function counterProgram() {
  return [
    ldxw(R6, R1, 0), // r6 = ctx->data
    ldxw(R7, R1, 4), // r7 = ctx->data_end
    sub64(R7, R6), // r7 = packet length
    mov64(R6, R7),
    mov64(R7, 1),
    ...addTo(PACKETS, 'packets_done'),
    mov64(R7, R6),
    ...addTo(BYTES, 'bytes_done'),
    mov64(R0, XdpAction.Pass),
    exit(),
  ];
}

/** A loaded counter: the map, the program, and (once attached) the link. */
export class PacketCounter implements Disposable {
  readonly counts = BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 2, name: 'counts' });
  readonly program: BpfProgram;
  #link: ReturnType<typeof attachXdp> | undefined;

  constructor() {
    try {
      this.program = BpfProgram.load({
        type: 'xdp',
        name: 'xdp_counter',
        license: 'GPL',
        instructions: counterProgram(),
        maps: { counts: this.counts },
      });
    } catch (error) {
      this.counts.close();
      throw error;
    }
  }

  /** Attaches the program to `iface` (generic mode works on every interface, `lo` included). */
  attach(iface: string | number, mode: 'generic' | 'driver' = 'generic'): void {
    this.#link = attachXdp(this.program, iface, { mode });
  }

  /** Packets and bytes seen so far. */
  read(): { packets: bigint; bytes: bigint } {
    return { packets: this.counts.get(PACKETS) ?? 0n, bytes: this.counts.get(BYTES) ?? 0n };
  }

  /** Detaches the program and frees everything. */
  close(): void {
    this.#link?.close();
    this.program.close();
    this.counts.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
