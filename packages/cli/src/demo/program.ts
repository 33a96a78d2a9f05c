import {
  add64,
  be,
  call,
  exit,
  type Instruction,
  type Item,
  ja,
  jeq,
  jgt,
  jne,
  label,
  ldMapFd,
  ldxb,
  ldxdw,
  ldxh,
  ldxw,
  link,
  mov64,
  R0,
  R1,
  R2,
  R3,
  R4,
  R5,
  R6,
  R7,
  R9,
  R10,
  stxdw,
  stxw,
} from '@ebpf/asm';
import { Slot } from './slots.ts';

/** The name the program's instructions use for the counters map (`ldMapFd(R1, counterMapName)`). */
export const counterMapName = 'counters';

const ETH_HLEN = 14;
const VLAN_HLEN = 4;
const IPV4_HLEN = 20;
const IPV6_HLEN = 40;
const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const ETH_P_8021Q = 0x8100;
const ETH_P_8021AD = 0x88a8;
const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;
const XDP_PASS = 2;

/**
 * The demo's XDP program, written with `@ebpf/asm` builders: it parses Ethernet (and one VLAN
 * tag), IPv4 and IPv6 headers, checking every read against `data_end`, classifies the packet as
 * TCP, UDP, ICMP, ICMPv6, other IP or non-IP, adds one packet and the frame's length to that
 * slot of the per-CPU array `counters` (`{ u64 packets; u64 bytes; }` per slot), and passes
 * the packet on (`XDP_PASS`). Registers: r6 ctx, r7 slot, r9 frame length, r2 data (moved past
 * a VLAN tag), r3 data_end, r4 bound being checked, r5 ethertype then L4 protocol.
 */
export function counterProgramItems(): Item[] {
  return [
    mov64(R6, R1),
    // Frame length, head and fragments alike (works the same on every XDP mode).
    call('xdp_get_buff_len'),
    mov64(R9, R0),
    mov64(R7, Slot.NonIp),
    ldxw(R2, R6, 0), // ctx->data
    ldxw(R3, R6, 4), // ctx->data_end

    // Ethernet header.
    mov64(R4, R2),
    add64(R4, ETH_HLEN),
    jgt(R4, R3, 'count'),
    ldxh(R5, R2, 12), // h_proto, network order
    be(R5, 16),
    jeq(R5, ETH_P_8021Q, 'vlan'),
    jne(R5, ETH_P_8021AD, 'l3'),

    // One 802.1Q/802.1ad tag: the real ethertype follows it; r2 moves 4 bytes on.
    label('vlan'),
    mov64(R4, R2),
    add64(R4, ETH_HLEN + VLAN_HLEN),
    jgt(R4, R3, 'count'),
    ldxh(R5, R2, ETH_HLEN + 2),
    be(R5, 16),
    add64(R2, VLAN_HLEN),

    label('l3'),
    jeq(R5, ETH_P_IP, 'ipv4'),
    jne(R5, ETH_P_IPV6, 'count'),

    // IPv6: next header at offset 6 of the fixed header.
    mov64(R4, R2),
    add64(R4, ETH_HLEN + IPV6_HLEN),
    jgt(R4, R3, 'count'),
    mov64(R7, Slot.OtherIp),
    ldxb(R5, R2, ETH_HLEN + 6),
    jeq(R5, IPPROTO_ICMPV6, 'icmpv6'),
    ja('l4'),

    // IPv4: protocol at offset 9.
    label('ipv4'),
    mov64(R4, R2),
    add64(R4, ETH_HLEN + IPV4_HLEN),
    jgt(R4, R3, 'count'),
    mov64(R7, Slot.OtherIp),
    ldxb(R5, R2, ETH_HLEN + 9),
    jeq(R5, IPPROTO_ICMP, 'icmp'),

    label('l4'),
    jeq(R5, IPPROTO_TCP, 'tcp'),
    jne(R5, IPPROTO_UDP, 'count'),
    mov64(R7, Slot.Udp),
    ja('count'),
    label('tcp'),
    mov64(R7, Slot.Tcp),
    ja('count'),
    label('icmp'),
    mov64(R7, Slot.Icmp),
    ja('count'),
    label('icmpv6'),
    mov64(R7, Slot.Icmpv6),

    // counters[slot].packets += 1; counters[slot].bytes += len (per CPU: no atomics needed).
    label('count'),
    stxw(R10, -4, R7),
    mov64(R2, R10),
    add64(R2, -4),
    ldMapFd(R1, counterMapName),
    call('map_lookup_elem'),
    jeq(R0, 0, 'out'),
    ldxdw(R1, R0, 0),
    add64(R1, 1),
    stxdw(R0, 0, R1),
    ldxdw(R1, R0, 8),
    add64(R1, R9),
    stxdw(R0, 8, R1),

    label('out'),
    mov64(R0, XDP_PASS),
    exit(),
  ];
}

/** The demo's XDP program, linked: jump offsets resolved, the map still referred to by name. */
export function counterProgram(): Instruction[] {
  return [...link(counterProgramItems()).instructions];
}
