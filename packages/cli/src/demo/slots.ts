/**
 * The counter slots of the demo's XDP program: the per-CPU array's key is the slot index, its
 * value `{ u64 packets; u64 bytes; }`.
 */
export const protocolSlots = [
  { key: 'tcp', label: 'TCP' },
  { key: 'udp', label: 'UDP' },
  { key: 'icmp', label: 'ICMP' },
  { key: 'icmpv6', label: 'ICMPv6' },
  { key: 'other_ip', label: 'other IP' },
  { key: 'non_ip', label: 'non-IP' },
] as const;

/** Index of each slot by its key. */
export const Slot = { Tcp: 0, Udp: 1, Icmp: 2, Icmpv6: 3, OtherIp: 4, NonIp: 5 } as const;

/** Name of a slot (`'tcp'`, `'udp'`, ...). */
export type SlotKey = (typeof protocolSlots)[number]['key'];

/** Number of slots, the per-CPU array's `maxEntries`. */
export const slotCount = protocolSlots.length;

/** Whether the host is little-endian: the kernel stores keys and counters in host byte order. */
export const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Size of one slot's value: two u64. */
export const slotValueSize = 16;

/** Packets and bytes of one protocol, summed over CPUs. */
export interface Counter {
  packets: bigint;
  bytes: bigint;
}

/** One counter per slot, by slot key. */
export type Counters = Record<SlotKey, Counter>;

/** Counters all zero. */
export function zeroCounters(): Counters {
  return Object.fromEntries(protocolSlots.map((s) => [s.key, { packets: 0n, bytes: 0n }])) as Counters;
}

/**
 * Sums one slot's per-CPU values. `perCpu` is either one buffer per CPU or one buffer holding
 * every CPU's value at an 8-byte-rounded stride (the kernel's layout); both are accepted.
 */
export function sumPerCpu(perCpu: Uint8Array | readonly Uint8Array[]): Counter {
  const values: Uint8Array[] = [];
  if (perCpu instanceof Uint8Array) {
    for (let off = 0; off + slotValueSize <= perCpu.length; off += slotValueSize)
      values.push(perCpu.subarray(off, off + slotValueSize));
  } else values.push(...perCpu);
  const total: Counter = { packets: 0n, bytes: 0n };
  for (const v of values) {
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    total.packets += view.getBigUint64(0, littleEndian);
    total.bytes += view.getBigUint64(8, littleEndian);
  }
  return total;
}
