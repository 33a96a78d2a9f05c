/**
 * Turns the figures of all rounds into the table's values, per shared/BENCH.md: value = median
 * of the round medians; ratio to C = median over rounds of the same-round ratio (ours / C for
 * ns/op, C / ours for rates), so a ratio above 1 always means we cost more than C. The public API
 * is compared with our own native floor the same way.
 */
import { type Figure, type Layer, median } from './harness.ts';

/** A target a row is checked against. */
export type Target =
  | { kind: 'ratio'; max: number }
  | { kind: 'rate'; min: number }
  | { kind: 'bytes'; max: number }
  | { kind: 'none' };

/** One line of the table. */
export interface Row {
  id: string;
  layer: Layer;
  unit: Figure['unit'];
  /** Median of the round medians, or undefined when not measured. */
  ours?: number;
  c?: number;
  /** Median over rounds of the same-round cost ratio ours/C. */
  ratio?: number;
  /** Every round's cost ratio ours/C (their spread shows how noisy the machine was). */
  ratios?: number[];
  target: Target;
  pass?: boolean;
  /** Public API cost over our own native floor (sys), same-round ratio, for API layers. */
  vsFloor?: number;
  vsFloorPass?: boolean;
  /** Why there is no figure (package not landed, or the workload failed). */
  na?: string;
  /** Rounds in which this row's process failed (its other rounds still count). */
  failedRounds?: { round: number; why: string }[];
  rounds: { round: number; runs: number[]; median: number }[];
  extra?: Record<string, number | string>;
}

/** The cost ratio a/b for a unit: time and bytes compare directly, rates inversely. */
function costRatio(unit: Figure['unit'], ours: number, base: number): number {
  return unit === 'ops/s' ? base / ours : ours / base;
}

/** Ceiling on the same-round ratio of the public API to the native floor. */
export const API_VS_FLOOR_MAX = 1.1;

/** Figures tagged with the round they come from. */
export interface RoundFigure extends Figure {
  round: number;
}

/** Builds the rows from every figure of every round; `targetOf` names each workload's target. */
export function buildRows(figures: readonly RoundFigure[], targetOf: (id: string) => Target): Row[] {
  const byKey = new Map<string, RoundFigure[]>();
  const order: string[] = [];
  for (const f of figures) {
    const key = `${f.id}\u0000${f.layer}`;
    if (!byKey.has(key)) {
      byKey.set(key, []);
      order.push(key);
    }
    byKey.get(key)!.push(f);
  }
  const roundMedian = (id: string, layer: Layer): Map<number, number> => {
    const m = new Map<number, number>();
    for (const f of byKey.get(`${id}\u0000${layer}`) ?? []) if (!f.na) m.set(f.round, f.median);
    return m;
  };
  const unitOf = new Map<string, Figure['unit']>();
  for (const f of figures) if (!f.na) unitOf.set(f.id, f.unit);
  const rows: Row[] = [];
  for (const key of order) {
    const list = byKey.get(key)!;
    const { id, layer } = list[0]!;
    const unit = unitOf.get(id) ?? list[0]!.unit;
    if (layer === 'c') continue;
    const measured = list.filter((f) => !f.na);
    const target = targetOf(id);
    const row: Row = {
      id,
      layer,
      unit,
      target,
      rounds: measured.map((f) => ({ round: f.round, runs: f.runs, median: f.median })),
    };
    const cRounds = roundMedian(id, 'c');
    if (cRounds.size) row.c = median([...cRounds.values()]);
    if (!measured.length) {
      row.na = list[0]!.na ?? 'not measured';
      rows.push(row);
      continue;
    }
    const failed = list.filter((f) => f.na?.startsWith('failed'));
    if (failed.length) row.failedRounds = failed.map((f) => ({ round: f.round, why: f.na! }));
    row.ours = median(measured.map((f) => f.median));
    const extra = measured.at(-1)!.extra;
    if (extra) row.extra = extra;
    const timing = unit === 'ns/op' || unit === 'ops/s';
    const ratios = measured
      .filter((f) => cRounds.has(f.round))
      .map((f) => costRatio(unit, f.median, cRounds.get(f.round)!));
    if (ratios.length && timing) {
      row.ratio = median(ratios);
      row.ratios = ratios;
    }
    if (target.kind === 'ratio' && row.ratio !== undefined) row.pass = row.ratio <= target.max;
    if (target.kind === 'rate') row.pass = row.ours >= target.min;
    if (target.kind === 'bytes') row.pass = row.ours <= target.max;
    if (timing && (layer === 'core' || layer === 'core-codec' || layer === 'core-run')) {
      const floor = roundMedian(id, 'sys');
      const vs = measured
        .filter((f) => floor.has(f.round))
        .map((f) => costRatio(unit, f.median, floor.get(f.round)!));
      if (vs.length) {
        row.vsFloor = median(vs);
        row.vsFloorPass = row.vsFloor <= API_VS_FLOOR_MAX;
      }
    }
    rows.push(row);
  }
  return rows;
}
