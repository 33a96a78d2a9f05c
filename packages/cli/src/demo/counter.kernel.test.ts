import { requireKernel } from '@ebpf/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacketCounter } from './counter.ts';
import { type SlotKey, zeroCounters } from './slots.ts';

const mac = '000000000000' + '000000000000';
/** IPv4 header (20 bytes) with `proto`, addresses 127.0.0.1. */
const ipv4 = (proto: number) =>
  `4500002800004000 40${proto.toString(16).padStart(2, '0')}0000 7f000001 7f000001`;
/** IPv6 fixed header (40 bytes) with next header `next`, addresses ::1. */
const ipv6 = (next: number) =>
  `60000000 0008 ${next.toString(16).padStart(2, '0')}40 ${'00'.repeat(15)}01 ${'00'.repeat(15)}01`;
const l4 = '0'.repeat(16);

function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

const cases: Array<[string, string, SlotKey]> = [
  ['IPv4 TCP', `${mac}0800${ipv4(6)}${l4}`, 'tcp'],
  ['IPv4 UDP', `${mac}0800${ipv4(17)}${l4}`, 'udp'],
  ['IPv4 ICMP', `${mac}0800${ipv4(1)}${l4}`, 'icmp'],
  ['IPv4 IGMP (other)', `${mac}0800${ipv4(2)}${l4}`, 'other_ip'],
  ['IPv4 proto 58 is not ICMPv6', `${mac}0800${ipv4(58)}${l4}`, 'other_ip'],
  ['IPv6 TCP', `${mac}86dd${ipv6(6)}${l4}`, 'tcp'],
  ['IPv6 UDP', `${mac}86dd${ipv6(17)}${l4}`, 'udp'],
  ['IPv6 ICMPv6', `${mac}86dd${ipv6(58)}${l4}`, 'icmpv6'],
  ['IPv6 next header 1 is not ICMP', `${mac}86dd${ipv6(1)}${l4}`, 'other_ip'],
  ['802.1Q-tagged IPv4 UDP', `${mac}8100 0064 0800${ipv4(17)}${l4}`, 'udp'],
  ['802.1ad-tagged IPv6 TCP', `${mac}88a8 0064 86dd${ipv6(6)}${l4}`, 'tcp'],
  ['ARP', `${mac}0806 0001080006040001${'00'.repeat(20)}`, 'non_ip'],
  ['IPv4 truncated inside the IP header', `${mac}0800 45000028`, 'non_ip'],
  ['IPv6 truncated inside the IP header', `${mac}86dd 60000000`, 'non_ip'],
  ['VLAN tag truncated', `${mac}8100 00`, 'non_ip'],
  ['Ethernet header alone, IPv4 ethertype', `${mac}0800`, 'non_ip'],
  ['LLDP (unknown ethertype)', `${mac}88cc${'00'.repeat(32)}`, 'non_ip'],
];

requireKernel('the demo XDP program classifies packets', () => {
  let counter: PacketCounter;
  beforeAll(() => {
    counter = PacketCounter.load();
  });
  afterAll(() => counter?.close());

  it('is accepted by the verifier', () => {
    expect(counter.program.typeName).toBe('xdp');
  });

  describe.each(cases)('%s', (_name, packetHex, slot) => {
    it(`counts one packet and its length as ${slot}, and passes it`, () => {
      const packet = hex(packetHex);
      const before = counter.read();
      const result = counter.program.run({ data: packet });
      expect(result.retval).toBe(2); // XDP_PASS
      expect([...result.data]).toEqual([...packet]); // not modified
      const after = counter.read();
      const expected = zeroCounters();
      expected[slot] = { packets: 1n, bytes: BigInt(packet.length) };
      for (const key of Object.keys(expected) as SlotKey[]) {
        expect({
          key,
          packets: after[key].packets - before[key].packets,
          bytes: after[key].bytes - before[key].bytes,
        }).toEqual({ key, ...expected[key] });
      }
    });
  });

  it('adds up over repeated runs', () => {
    const packet = hex(cases[0]![1]);
    const before = counter.read().tcp;
    counter.program.run({ data: packet, repeat: 100 });
    const after = counter.read().tcp;
    expect(after.packets - before.packets).toBe(100n);
    expect(after.bytes - before.bytes).toBe(100n * BigInt(packet.length));
  });
});
