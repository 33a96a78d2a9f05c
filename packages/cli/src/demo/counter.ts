import { attachXdp, BpfMap, BpfProgram, type Link } from '@ebpf/core';
import { counterMapName, counterProgram } from './program.ts';
import { type Counters, protocolSlots, slotCount, slotValueSize, sumPerCpu } from './slots.ts';

/** The counters map: slot number to one 16-byte value per possible CPU. */
export type CounterMap = BpfMap<number, Uint8Array[]>;

/** The demo's per-CPU counters map and XDP program, loaded and ready to attach or test-run. */
export class PacketCounter implements Disposable {
  /** The per-CPU array of `{ packets, bytes }`, one entry per protocol slot. */
  readonly map: CounterMap;
  /** The XDP program. */
  readonly program: BpfProgram;
  #link: Link | undefined;

  private constructor(map: CounterMap, program: BpfProgram) {
    this.map = map;
    this.program = program;
  }

  /** Creates the map and loads the program (needs CAP_BPF, or root). */
  static load(): PacketCounter {
    const map = BpfMap.create({
      type: 'percpu_array',
      keySize: 4,
      valueSize: slotValueSize,
      maxEntries: slotCount,
      name: 'xdp_proto_count',
      key: 'u32',
    });
    try {
      const program = BpfProgram.load({
        type: 'xdp',
        instructions: counterProgram(),
        license: 'GPL',
        name: 'xdp_proto_count',
        maps: { [counterMapName]: map },
      });
      return new PacketCounter(map, program);
    } catch (error) {
      map.close();
      throw error;
    }
  }

  /** Attaches the program to `iface` through a BPF link (closing the link, or this, detaches it). */
  attach(iface: string, mode: 'generic' | 'driver' = 'generic'): Link {
    if (this.#link) throw new Error('the counter is attached already');
    this.#link = attachXdp(this.program, iface, { mode });
    return this.#link;
  }

  /** The link while attached. */
  get link(): Link | undefined {
    return this.#link;
  }

  /** Detaches the program (closes the link). Idempotent. */
  detach(): void {
    const link = this.#link;
    this.#link = undefined;
    link?.close();
  }

  /** Current counts, summed over CPUs. */
  read(): Counters {
    const out = {} as Counters;
    protocolSlots.forEach(({ key }, slot) => {
      const perCpu = this.map.get(slot);
      out[key] = perCpu === undefined ? { packets: 0n, bytes: 0n } : sumPerCpu(perCpu);
    });
    return out;
  }

  /** Detaches and releases the program and the map. Idempotent; safe in `finally` and signal handlers. */
  close(): void {
    try {
      this.detach();
    } finally {
      this.program.close();
      this.map.close();
    }
  }

  /** Closes the counter at the end of a `using` block; same as {@link PacketCounter.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}
