import { AttachType, ProgType } from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../errors.ts';
import {
  attachTypeName,
  defaultExpectedAttachType,
  programTypeName,
  resolveAttachType,
  resolveProgramType,
} from './types.ts';

describe('program type names', () => {
  const cases: Array<[string, number]> = [
    ['socket_filter', ProgType.SocketFilter],
    ['xdp', ProgType.Xdp],
    ['sched_cls', ProgType.SchedCls],
    ['tc', ProgType.SchedCls],
    ['cgroup_sock_addr', ProgType.CgroupSockAddr],
    ['raw_tracepoint_writable', ProgType.RawTracepointWritable],
    ['tracing', ProgType.Tracing],
    ['netfilter', ProgType.Netfilter],
  ];
  for (const [name, value] of cases) {
    it(`'${name}' is ${value}`, () => expect(resolveProgramType(name as never)).toBe(value));
  }

  it('passes values through and names them back', () => {
    expect(resolveProgramType(ProgType.Kprobe)).toBe(ProgType.Kprobe);
    expect(programTypeName(ProgType.SchedCls)).toBe('sched_cls');
    expect(programTypeName(ProgType.Xdp)).toBe('xdp');
    expect(programTypeName(4242)).toBe('type 4242');
  });

  it('rejects unknown names and impossible values', () => {
    expect(() => resolveProgramType('unspec' as never)).toThrow(InvalidArgumentError);
    expect(() => resolveProgramType('XDP' as never)).toThrow(
      /unknown program type 'XDP' \(known: socket_filter, /,
    );
    expect(() => resolveProgramType(0 as never)).toThrow(InvalidArgumentError);
    expect(() => resolveProgramType(1.5 as never)).toThrow(InvalidArgumentError);
  });
});

describe('attach type names', () => {
  it('resolves names without the BPF_ prefix', () => {
    expect(resolveAttachType('cgroup_inet_ingress')).toBe(AttachType.CgroupInetIngress);
    expect(resolveAttachType('trace_fentry')).toBe(AttachType.TraceFentry);
    expect(resolveAttachType('xdp')).toBe(AttachType.Xdp);
    expect(resolveAttachType(AttachType.SkLookup)).toBe(AttachType.SkLookup);
    expect(attachTypeName(AttachType.CgroupInet4Connect)).toBe('cgroup_inet4_connect');
    expect(() => resolveAttachType('nope')).toThrow(/unknown attach type 'nope'/);
  });

  it('knows which program types need an expected attach type at load', () => {
    expect(defaultExpectedAttachType(ProgType.Xdp)).toBeUndefined();
    expect(defaultExpectedAttachType(ProgType.SkLookup)).toBe(AttachType.SkLookup);
    expect(defaultExpectedAttachType(ProgType.CgroupSockAddr)).toBeNull();
  });
});
