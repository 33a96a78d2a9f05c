import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { protocolSlots, Slot, sumPerCpu } from './slots.ts';
import { renderView, rows } from './view.ts';

function value(packets: number, bytes: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(packets), true);
  v.setBigUint64(8, BigInt(bytes), true);
  return b;
}

describe('counter slots', () => {
  it('match the Slot indexes', () => {
    expect(protocolSlots[Slot.Tcp].key).toBe('tcp');
    expect(protocolSlots[Slot.Udp].key).toBe('udp');
    expect(protocolSlots[Slot.Icmp].key).toBe('icmp');
    expect(protocolSlots[Slot.Icmpv6].key).toBe('icmpv6');
    expect(protocolSlots[Slot.OtherIp].key).toBe('other_ip');
    expect(protocolSlots[Slot.NonIp].key).toBe('non_ip');
  });

  it('sum per-CPU values given as one buffer per CPU or one strided buffer', () => {
    expect(sumPerCpu([value(1, 100), value(2, 50)])).toEqual({ packets: 3n, bytes: 150n });
    const strided = new Uint8Array(32);
    strided.set(value(4, 10), 0);
    strided.set(value(5, 20), 16);
    expect(sumPerCpu(strided)).toEqual({ packets: 9n, bytes: 30n });
  });
});

describe('live view', () => {
  it('shows rates over the interval and each protocol share', () => {
    const zero = { packets: 0n, bytes: 0n };
    const before = { tcp: zero, udp: zero, icmp: zero, icmpv6: zero, other_ip: zero, non_ip: zero };
    const now = { ...before, tcp: { packets: 30n, bytes: 3000n }, udp: { packets: 10n, bytes: 1000n } };
    const table = rows(now, before, 2);
    expect(table[0]).toMatchObject({ label: 'TCP', rate: 15, byteRate: 1500 });
    const text = renderView(
      { iface: 'lo', mode: 'generic', progId: 5, linkId: 6, elapsed: 2, duration: 3 },
      table,
      pc.createColors(false),
      100,
    );
    expect(text).toContain('on lo (generic mode), prog id 5, link id 6');
    expect(text).toMatch(/TCP\s+30\s+2\.9 KiB\s+15\s+1\.5 KiB\s+[█▏▎▍▌▋▊▉]+\s+75%/);
    expect(text).toMatch(/UDP\s+10\s+1000 B\s+5\s+500 B\s+[█▏▎▍▌▋▊▉]+\s+25%/);
  });
});
