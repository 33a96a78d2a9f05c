import { describe, expect, it } from 'vitest';
import { clearFeatureTests, effectiveCapabilities, featureTest, mayUseBpf } from './feature.ts';

describe('featureTest', () => {
  it('runs a test once and keeps its answer until the cache is cleared', () => {
    let runs = 0;
    const test = () => {
      runs++;
      return { status: 'unknown' as const, reason: 'cannot tell: permission' };
    };
    const first = featureTest('test:once', test);
    expect(featureTest('test:once', test)).toBe(first);
    expect(runs).toBe(1);
    expect(Object.isFrozen(first)).toBe(true);
    clearFeatureTests();
    featureTest('test:once', test);
    expect(runs).toBe(2);
  });
});

describe('mayUseBpf', () => {
  it('reads CAP_BPF and CAP_SYS_ADMIN from the effective set', () => {
    expect(effectiveCapabilities('Name:\tnode\nCapEff:\t000001ffffffffff\n')).toBe(0x1ffffffffffn);
    expect(mayUseBpf(0x1ffffffffffn)).toBe(true);
    expect(mayUseBpf(1n << 39n)).toBe(true);
    expect(mayUseBpf(1n << 21n)).toBe(true);
    expect(mayUseBpf(0n)).toBe(false);
    expect(effectiveCapabilities('Name:\tnode\n')).toBeUndefined();
  });
});
