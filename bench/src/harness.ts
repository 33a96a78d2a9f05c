/**
 * What every Node-side workload module shares: the run protocol of shared/BENCH.md (3 untimed
 * warm-up runs so the JIT tiers up, then 5 timed runs, clock read right around the loop), the
 * JSON line each figure is printed as (the same shape the C baseline prints), and the "not
 * landed yet" line for a layer whose package is missing.
 */

/** Untimed warm-up runs for Node (C does 1). */
export const WARMUP_RUNS = 3;
/** Timed runs per workload. */
export const TIMED_RUNS = 5;
/** Warm-up plus timed runs: loop `for (let run = 0; run < ALL_RUNS; run++)`. */
export const ALL_RUNS = WARMUP_RUNS + TIMED_RUNS;

/** The unit of a figure: `ns/op` (lower is better) or a rate in `ops/s` (higher is better), or a size. */
export type Unit = 'ns/op' | 'ops/s' | 'KiB' | 'bytes';

/** Which implementation a line measures: C, our native floor (`sys`), our public API (`core`...). */
export type Layer =
  | 'c'
  | 'c-libbpf'
  | 'sys'
  | 'sys-plain'
  | 'sys-drain'
  | 'core'
  | 'core-next'
  | 'core-transient'
  | 'core-await'
  | 'core-batches'
  | 'core-run'
  | 'core-insns'
  | 'core-codec'
  | 'asm'
  | 'btf';

/** One printed figure: all timed runs and their median, or `na` with the reason. */
export interface Figure {
  impl: 'c' | 'node';
  layer: Layer;
  id: string;
  unit: Unit;
  ops: number;
  runs: number[];
  median: number;
  na?: string;
  extra?: Record<string, number | string>;
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Prints one figure as a JSON line on stdout. */
export function emit(figure: Figure): void {
  process.stdout.write(`${JSON.stringify(figure)}\n`);
}

/** Prints "not measured" lines for `ids` of `layer`: the package the layer needs has not landed. */
export function notAvailable(layer: Layer, ids: readonly string[], reason: string): void {
  for (const id of ids)
    emit({ impl: 'node', layer, id, unit: 'ns/op', ops: 0, runs: [], median: Number.NaN, na: reason });
}

/** Fails the workload: no figure is printed for a run with a failed operation. */
export function check(ok: unknown, what: string): asserts ok {
  if (!ok) throw new Error(`bench: check failed: ${what}`);
}

/**
 * Collects the timed runs of one figure. `record(run, t0, t1)` ignores warm-up runs; time is
 * `process.hrtime.bigint()` read right before and after the loop.
 */
export class Runs {
  readonly #values: number[] = [];
  constructor(
    readonly layer: Layer,
    readonly id: string,
    readonly unit: 'ns/op' | 'ops/s',
    readonly ops: number,
  ) {}

  record(run: number, t0: bigint, t1: bigint): void {
    if (run < WARMUP_RUNS) return;
    const ns = Number(t1 - t0);
    this.#values.push(this.unit === 'ns/op' ? ns / this.ops : (this.ops * 1e9) / ns);
  }

  emit(extra?: Record<string, number | string>): void {
    check(this.#values.length === TIMED_RUNS, `${this.id}: ${this.#values.length} timed runs`);
    emit({
      impl: 'node',
      layer: this.layer,
      id: this.id,
      unit: this.unit,
      ops: this.ops,
      runs: this.#values,
      median: median(this.#values),
      ...(extra ? { extra } : {}),
    });
  }
}

/** The layer a workload process was asked to measure (`argv[2]`). */
export function layerArg(allowed: readonly Layer[]): Layer {
  const layer = process.argv[2] as Layer;
  if (!allowed.includes(layer)) throw new Error(`bench: layer must be one of ${allowed.join(', ')}`);
  return layer;
}

/** True when the runner passed `--quick` (smaller sizes where a workload allows it). */
export const quick = process.argv.includes('--quick');

/** A buffer whose memory is off the V8 heap from the start (BENCH.md: reuse these). */
export function buffer(bytes: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(bytes));
}

/**
 * Imports a workspace package if it has landed and exports `needed`; otherwise returns the
 * reason to print instead of a figure ("waiting for @ebpf/sys").
 */
export async function landed<T = Record<string, unknown>>(
  name: string,
  needed: readonly string[],
): Promise<{ mod: T } | { reason: string }> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(name)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED')
      return { reason: `waiting for ${name}` };
    return { reason: `${name} failed to load: ${(err as Error).message.split('\n')[0]}` };
  }
  const missing = needed.filter((n) => mod[n] === undefined);
  if (missing.length) return { reason: `waiting for ${name} ${missing.join(', ')}` };
  return { mod: mod as T };
}

/** One timed loop of a workload: `before`/`after` run untimed around it in every run. */
export interface Timed {
  id: string;
  unit: 'ns/op' | 'ops/s';
  /** Operations in one run of `loop`. */
  ops: number;
  before?(): void;
  /** One timed run; a promise is awaited inside the timed span (`for await` loops). */
  loop(): void | Promise<void>;
  after?(): void;
}

/** A layer's loops, or why the layer cannot be measured yet. */
export type Prepared = { timed: Timed[] } | { reason: string };

/**
 * Runs a workload's loops in order, ALL_RUNS times (the first WARMUP_RUNS untimed), and prints
 * one figure per loop; or prints the `na` lines when the layer is not available.
 */
export async function measure(layer: Layer, ids: readonly string[], prepared: Prepared): Promise<void> {
  if ('reason' in prepared) {
    notAvailable(layer, ids, prepared.reason);
    return;
  }
  const runs = prepared.timed.map((t) => new Runs(layer, t.id, t.unit, t.ops));
  for (let run = 0; run < ALL_RUNS; run++) {
    for (const [i, t] of prepared.timed.entries()) {
      t.before?.();
      const t0 = process.hrtime.bigint();
      const pending = t.loop();
      if (pending) await pending;
      const t1 = process.hrtime.bigint();
      runs[i]!.record(run, t0, t1);
      t.after?.();
    }
  }
  for (const r of runs) r.emit();
}
