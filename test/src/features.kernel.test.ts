import { release } from 'node:os';
import { BpfMap, features } from '@ebpf/core';
import { requireKernel, thrown } from '@ebpf/test-utils';
import { describe, expect, it } from 'vitest';

requireKernel('features, as a user of @ebpf/core sees them', () => {
  describe('probing the running kernel', () => {
    it("mapType('ringbuf'), programType('xdp'), helper('xdp', 'bpf_ringbuf_output')", () => {
      expect(features.mapType('ringbuf')).toBe(true);
      expect(features.programType('xdp')).toBe(true);
      expect(features.helper('xdp', 'bpf_ringbuf_output')).toBe(true);
      expect(features.helper('xdp', 'ringbuf_output')).toBe(true);
      expect(features.helper('socket_filter', 'bpf_xdp_adjust_head')).toBe(false);
    });

    it('kernelVersion() is the running kernel', () => {
      const version = features.kernelVersion();
      const [major, minor] = release()
        .split('.')
        .map((part) => Number.parseInt(part, 10));
      expect(version.major).toBe(major);
      expect(version.minor).toBe(minor);
      expect(typeof version.patch).toBe('number');
    });

    it('answers are cached: a second question costs nothing', () => {
      features.helper('sched_cls', 'bpf_skb_store_bytes');
      const start = performance.now();
      for (let i = 0; i < 10_000; i++) features.helper('sched_cls', 'bpf_skb_store_bytes');
      expect(performance.now() - start).toBeLessThan(100);
    });

    it('every map type the probe says yes to can be created', () => {
      for (const type of ['hash', 'array', 'ringbuf', 'queue', 'bloom_filter', 'task_storage']) {
        expect(features.mapType(type), type).toBe(true);
      }
      expect(() => BpfMap.create({ type: 'task_storage', keySize: 4, valueSize: 16 }).close()).not.toThrow();
    });
  });

  describe('not-supported errors name the feature', () => {
    it('require* throws NotSupportedError naming the feature and why', () => {
      const error = thrown(() => features.requireHelper('socket_filter', 'bpf_xdp_adjust_head'));
      expect(error.name).toBe('NotSupportedError');
      expect(String(error.feature)).toContain('bpf_xdp_adjust_head');
      expect(String(error.feature)).toContain('socket_filter');
      expect(error.message).toContain('bpf_xdp_adjust_head');
      expect(error.reason).toBeTruthy();
    });

    it('probe* says why not', () => {
      const probe = features.probeHelper('socket_filter', 'bpf_xdp_adjust_head');
      expect(probe.supported).toBe(false);
      expect(probe.feature).toContain('bpf_xdp_adjust_head');
      expect(probe.reason).toBeTruthy();
    });

    it('unknown names are InvalidArgumentErrors, not false', () => {
      expect(thrown(() => features.mapType('no_such_map')).name).toBe('InvalidArgumentError');
      expect(thrown(() => features.programType('no_such_prog' as never)).name).toBe('InvalidArgumentError');
      expect(thrown(() => features.helper('xdp', 'bpf_no_such_helper')).name).toBe('InvalidArgumentError');
    });
  });
});
