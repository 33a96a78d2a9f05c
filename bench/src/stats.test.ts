import { describe, expect, it } from 'vitest';
import type { Layer } from './harness.ts';
import { buildRows, type RoundFigure, type Target } from './stats.ts';

function fig(id: string, layer: Layer, unit: 'ns/op' | 'ops/s', round: number, median: number): RoundFigure {
  return { impl: layer === 'c' ? 'c' : 'node', layer, id, unit, ops: 1, runs: [median], median, round };
}

const ratio13: Target = { kind: 'ratio', max: 1.3 };

describe('buildRows', () => {
  it('takes the median of the same-round ratios, ours / C for times', () => {
    const rows = buildRows(
      [
        fig('W1.x', 'c', 'ns/op', 0, 100),
        fig('W1.x', 'sys', 'ns/op', 0, 120),
        fig('W1.x', 'c', 'ns/op', 1, 200),
        fig('W1.x', 'sys', 'ns/op', 1, 200),
        fig('W1.x', 'c', 'ns/op', 2, 100),
        fig('W1.x', 'sys', 'ns/op', 2, 150),
      ],
      () => ratio13,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.ratio).toBeCloseTo(1.2);
    expect(rows[0]!.ours).toBe(150);
    expect(rows[0]!.c).toBe(100);
    expect(rows[0]!.pass).toBe(true);
  });

  it('inverts rates so that a ratio above 1 still means we cost more', () => {
    const rows = buildRows([fig('W3.x', 'c', 'ops/s', 0, 10e6), fig('W3.x', 'sys', 'ops/s', 0, 5e6)], () => ({
      kind: 'ratio',
      max: 1.1,
    }));
    expect(rows[0]!.ratio).toBeCloseTo(2);
    expect(rows[0]!.pass).toBe(false);
  });

  it('compares the public API with the floor of the same round', () => {
    const rows = buildRows(
      [
        fig('W1.x', 'c', 'ns/op', 0, 100),
        fig('W1.x', 'sys', 'ns/op', 0, 110),
        fig('W1.x', 'core', 'ns/op', 0, 132),
      ],
      () => ratio13,
    );
    const core = rows.find((r) => r.layer === 'core')!;
    expect(core.vsFloor).toBeCloseTo(1.2);
    expect(core.vsFloorPass).toBe(false);
  });

  it('keeps a row that was not measured, with its reason, and flags failed rounds', () => {
    const na = { ...fig('W5.x', 'core', 'ns/op', 0, Number.NaN), runs: [], na: 'waiting for @ebpf/core' };
    const failed = { ...fig('W1.x', 'sys', 'ns/op', 1, Number.NaN), runs: [], na: 'failed: check failed' };
    const rows = buildRows(
      [
        fig('W5.x', 'c', 'ops/s', 0, 1e8),
        na,
        fig('W1.x', 'c', 'ns/op', 0, 100),
        fig('W1.x', 'sys', 'ns/op', 0, 110),
        failed,
      ],
      () => ratio13,
    );
    const w5 = rows.find((r) => r.id === 'W5.x')!;
    expect(w5.na).toBe('waiting for @ebpf/core');
    expect(w5.unit).toBe('ops/s');
    expect(w5.ours).toBeUndefined();
    const w1 = rows.find((r) => r.id === 'W1.x')!;
    expect(w1.ours).toBe(110);
    expect(w1.failedRounds).toEqual([{ round: 1, why: 'failed: check failed' }]);
  });

  it('checks absolute rate and size targets', () => {
    const rows = buildRows([fig('W6.x', 'c', 'ops/s', 0, 1e9), fig('W6.x', 'sys', 'ops/s', 0, 2e8)], () => ({
      kind: 'rate',
      min: 3e8,
    }));
    expect(rows[0]!.pass).toBe(false);
  });
});
