import { ProgType } from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { Capability } from '../internal/feature.ts';
import { capabilitiesToLoad, missingCapabilities } from './capabilities.ts';

const set = (...names: (keyof typeof Capability)[]) =>
  names.reduce((caps, name) => caps | (1n << BigInt(Capability[name])), 0n);

describe('capabilities to load a program', () => {
  it('asks CAP_NET_ADMIN of networking types and CAP_PERFMON of tracing types', () => {
    expect(capabilitiesToLoad(ProgType.Xdp)).toEqual(['CAP_BPF', 'CAP_NET_ADMIN']);
    expect(capabilitiesToLoad(ProgType.Tracepoint)).toEqual(['CAP_BPF', 'CAP_PERFMON']);
    expect(capabilitiesToLoad(ProgType.SocketFilter)).toEqual(['CAP_BPF']);
    expect(capabilitiesToLoad(ProgType.Ext)).toEqual(['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_PERFMON']);
  });

  it('names what is missing, and nothing when CAP_SYS_ADMIN stands in for all', () => {
    expect(missingCapabilities(ProgType.Xdp, set('CAP_SYS_ADMIN'))).toEqual([]);
    expect(missingCapabilities(ProgType.Xdp, set('CAP_BPF', 'CAP_PERFMON'))).toEqual(['CAP_NET_ADMIN']);
    expect(missingCapabilities(ProgType.Kprobe, set('CAP_BPF'))).toEqual(['CAP_PERFMON']);
    expect(missingCapabilities(ProgType.Xdp, set('CAP_BPF', 'CAP_NET_ADMIN'))).toEqual([]);
    expect(missingCapabilities(ProgType.Xdp, 0n)).toEqual(['CAP_BPF', 'CAP_NET_ADMIN']);
  });
});
