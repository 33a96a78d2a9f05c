import { exit, mov64, R0 } from '@ebpf/asm';
import { requireKernel, thrown } from '@ebpf/test-utils';
import { FuncId, LinkType, MapType, ProgType } from '@ebpf/uapi';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotSupportedError } from '../errors.ts';
import { knownFeature } from '../internal/feature.ts';
import { mapTypes } from '../map/map-types.ts';
import { BpfProgram } from '../program/program.ts';
import { features } from './probes.ts';

requireKernel('features', () => {
  describe('map types', () => {
    it('finds the map types of this kernel, by name and by value', () => {
      expect(features.mapType('hash')).toBe(true);
      expect(features.mapType('ringbuf')).toBe(true);
      expect(features.mapType(MapType.LpmTrie)).toBe(true);
      for (const name of [
        'array_of_maps',
        'sk_storage',
        'task_storage',
        'queue',
        'bloom_filter',
        'user_ringbuf',
      ]) {
        expect(features.probeMapType(name)).toMatchObject({ feature: `map type ${name}`, supported: true });
      }
    });

    it('answers for every map type it knows without throwing', () => {
      for (const name of Object.keys(mapTypes)) expect(typeof features.mapType(name)).toBe('boolean');
    });

    it('says no for a type the kernel does not know, and requireMapType names it', () => {
      const probe = features.probeMapType(4000);
      expect(probe.supported).toBe(false);
      expect(probe.reason).toMatch(/EINVAL/);
      expect(() => features.requireMapType(4000)).toThrow(NotSupportedError);
      expect(() => features.requireMapType(4000)).toThrow(/map type 4000 is not supported/);
      expect(() => features.requireMapType('ringbuf')).not.toThrow();
      expect(() => features.mapType('no_such_type')).toThrow(InvalidArgumentError);
    });

    it('caches its answers', () => {
      expect(features.probeMapType('hash')).toBe(features.probeMapType('hash'));
    });
  });

  describe('program types', () => {
    it('finds the program types of this kernel', () => {
      expect(features.programType('xdp')).toBe(true);
      expect(features.programType(ProgType.SocketFilter)).toBe(true);
      expect(features.programType('cgroup_sock_addr')).toBe(true);
      expect(features.programType('sk_lookup')).toBe(true);
      expect(features.probeProgramType('xdp')).toEqual({
        feature: 'program type xdp',
        supported: true,
        status: 'supported',
      });
    });

    it('explains tracing refused by lockdown', () => {
      const lockdown = features.lockdown();
      const probe = features.probeProgramType('tracing');
      if (lockdown !== undefined && lockdown !== 'none') {
        expect(probe).toEqual({
          feature: 'program type tracing',
          supported: false,
          status: 'unsupported',
          reason: `refused by kernel lockdown (${lockdown})`,
        });
        expect(() => features.requireProgramType('tracing')).toThrow(/program type tracing is not supported/);
      } else {
        expect(typeof probe.supported).toBe('boolean');
      }
    });

    it('says no for a type the kernel does not know', () => {
      expect(features.programType(999)).toBe(false);
      expect(() => features.programType('nope' as never)).toThrow(InvalidArgumentError);
    });
  });

  describe('helpers', () => {
    it('finds helpers a program type may call', () => {
      expect(features.helper('xdp', 'bpf_ringbuf_output')).toBe(true);
      expect(features.helper('xdp', 'map_lookup_elem')).toBe(true);
      expect(features.helper('socket_filter', FuncId.SkbLoadBytes)).toBe(true);
    });

    it('finds helpers a program type may not call, with the verifier as the reason', () => {
      const probe = features.probeHelper('socket_filter', 'bpf_xdp_adjust_head');
      expect(probe.supported).toBe(false);
      expect(probe.feature).toBe('helper bpf_xdp_adjust_head for socket_filter programs');
      expect(probe.reason).toMatch(/cannot use helper bpf_xdp_adjust_head/);
      expect(() => features.requireHelper('socket_filter', 'bpf_xdp_adjust_head')).toThrow(NotSupportedError);
      expect(features.helper('xdp', 100_000)).toBe(false);
      expect(() => features.helper('xdp', 'bpf_no_such_helper')).toThrow(InvalidArgumentError);
    });

    it('probes syscall programs sleepable, so their helpers are really asked about', () => {
      expect(features.canProbeHelpers('syscall').supported).toBe(true);
      expect(features.helper('syscall', 'bpf_map_lookup_elem')).toBe(true);
      expect(features.helper('syscall', 'bpf_xdp_adjust_head')).toBe(false);
    });

    it('says no, and why, where the kernel refuses probe programs before looking at their calls', () => {
      // struct_ops needs a struct to implement: without one every helper would look available.
      const answer = features.canProbeHelpers('struct_ops');
      expect(answer.supported).toBe(false);
      expect(answer.reason).toMatch(/struct_ops programs cannot be probed/);
      const probe = features.probeHelper('struct_ops', 'bpf_map_lookup_elem');
      expect(probe.supported).toBe(false);
      expect(probe.reason).toBe(answer.reason);
      expect(features.canProbeHelpers('xdp').supported).toBe(true);
    });
  });

  it('probes link types by linking to a target that does not exist', () => {
    for (const type of [
      'xdp',
      'tcx',
      'cgroup',
      'uprobe_multi',
      'perf_event',
      'netns',
      'netfilter',
      'sockmap',
    ]) {
      const probe = features.probeLinkType(type);
      expect(probe, type).toMatchObject({
        feature: `link type ${type}`,
        supported: true,
        status: 'supported',
      });
      expect(probe.reason, type).toBeUndefined();
    }
    expect(features.linkType(LinkType.PerfEvent)).toBe(true);
    // This kernel is built without kprobes and its lockdown refuses tracing programs.
    expect(features.probeLinkType('kprobe_multi')).toMatchObject({
      supported: false,
      status: 'unsupported',
      reason: 'the kernel refused the attach type (EOPNOTSUPP)',
    });
    expect(features.probeLinkType('tracing')).toMatchObject({
      supported: false,
      status: 'unsupported',
      reason: `refused by kernel lockdown (${features.lockdown()})`,
    });
    expect(() => features.requireLinkType('kprobe_multi')).toThrow(NotSupportedError);
    expect(() => features.linkType('nope')).toThrow(InvalidArgumentError);
    expect(() => features.requireLinkType('xdp')).not.toThrow();
  });

  it('probes the link types other commands create, and iterators, for real', () => {
    for (const type of ['raw_tracepoint', 'struct_ops', 'iter']) {
      expect(features.probeLinkType(type), type).toEqual({
        feature: `link type ${type}`,
        supported: true,
        status: 'supported',
      });
    }
    expect(features.probeMapType('struct_ops')).toMatchObject({ supported: true, status: 'supported' });
    expect(features.probeMapType('struct_ops').reason).not.toMatch(/version/);
  });

  it('shares one cache entry with the load that asks whether the kernel knows a program type', () => {
    features.clearCache();
    const error = thrown(() =>
      BpfProgram.load({ type: 999 as never, instructions: [mov64(R0, 0), exit()], license: 'GPL' }),
    );
    expect(error).toBeInstanceOf(NotSupportedError);
    const answer = knownFeature('prog:999');
    expect(answer?.status).toBe('unsupported');
    expect(features.probeProgramType(999)).toBe(answer);
    expect((error as Error).message).toContain(answer?.reason);
  });

  it('reads the kernel version and lockdown mode', () => {
    const version = features.kernelVersion();
    expect(version.major).toBeGreaterThanOrEqual(5);
    expect(version.code).toBe((version.major << 16) + (version.minor << 8) + Math.min(version.patch, 255));
    expect(String(version)).toBe(`${version.major}.${version.minor}.${version.patch}`);
    expect([undefined, 'none', 'integrity', 'confidentiality']).toContain(features.lockdown());
  });
});
