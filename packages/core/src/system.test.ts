import { describe, expect, it } from 'vitest';
import { NotSupportedError } from './errors.ts';
import { bootTime, parseCpuList, parseKernelRelease, pmuConfigBit, pmuType } from './system.ts';

describe('parseKernelRelease', () => {
  it('reads major, minor and patch and computes KERNEL_VERSION', () => {
    expect(parseKernelRelease('6.18.44-fc-v595')).toMatchObject({
      major: 6,
      minor: 18,
      patch: 44,
      code: 0x06122c,
    });
    expect(parseKernelRelease('5.15.0-91-generic')).toMatchObject({ major: 5, minor: 15, patch: 0 });
    expect(parseKernelRelease('4.19.300').code).toBe((4 << 16) + (19 << 8) + 255);
    expect(parseKernelRelease('6.1').patch).toBe(0);
    expect(() => parseKernelRelease('garbage')).toThrow(/kernel version/);
  });
});

describe('parseCpuList', () => {
  it('reads the ranges and single CPUs of a sysfs CPU list', () => {
    expect(parseCpuList('0-3,5,7-8\n')).toEqual([0, 1, 2, 3, 5, 7, 8]);
    expect(parseCpuList('0\n')).toEqual([0]);
    expect(parseCpuList('')).toEqual([]);
  });
});

describe('system facts', () => {
  it('places boot in the past, once', () => {
    expect(bootTime()).toBeLessThanOrEqual(Date.now());
    expect(bootTime()).toBe(bootTime());
  });

  it('names a missing PMU in a NotSupportedError', () => {
    expect(() => pmuType('no-such-pmu')).toThrow(NotSupportedError);
    expect(() => pmuType('no-such-pmu')).toThrow(/no no-such-pmu PMU/);
    expect(pmuConfigBit('no-such-pmu', 'retprobe')).toBeUndefined();
  });
});
