/**
 * Object loading (issue 13): the 20-program object bench/c/object-20.bpf.c (built by the runner
 * with clang into bench/.build/object-20.o) parsed and loaded by `Collection.load`, 10 loads per
 * run, against libbpf's bpf_object__open_mem + bpf_object__load in the C baseline. Figures per
 * load: the whole load and the load less the verifier's own time (log_level 4 statistics of
 * every program, summed), each the median of the run's loads; and, Node only, the parse alone
 * (`CollectionSpec.parse`, no kernel) per object.
 * Usage: object.ts core
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Core from '@ebpf/core';
import { ALL_RUNS, check, emit, landed, layerArg, median, notAvailable, WARMUP_RUNS } from '../harness.ts';
import { verifierNs } from './load.ts';

const LOADS_PER_RUN = 10;
const PARSES_PER_RUN = 200;
const LOG_STATS = 4;
const IDS = ['object.20_progs.load', 'object.20_progs.minus_verifier', 'object.parse'];

const layer = layerArg(['core']);
const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.build/object-20.o');
const bytes = new Uint8Array(readFileSync(file));

const core = await landed<typeof Core>('@ebpf/core', ['Collection', 'CollectionSpec']);
if ('reason' in core) notAvailable(layer, IDS, core.reason);
else {
  const { Collection, CollectionSpec } = core.mod;
  const total: number[] = [];
  const net: number[] = [];
  const parse: number[] = [];
  for (let r = 0; r < ALL_RUNS; r++) {
    const t: number[] = [];
    const n: number[] = [];
    for (let i = 0; i < LOADS_PER_RUN; i++) {
      const t0 = process.hrtime.bigint();
      const coll = Collection.load(bytes, { logLevel: LOG_STATS });
      const elapsed = Number(process.hrtime.bigint() - t0);
      const programs = Object.values(coll.programs);
      check(programs.length === 20, `the object loads 20 programs, got ${programs.length}`);
      const verifier = programs.reduce((sum, p) => sum + verifierNs(p.verifierLog ?? ''), 0);
      coll.close();
      t.push(elapsed);
      n.push(elapsed - verifier);
    }
    const p0 = process.hrtime.bigint();
    for (let i = 0; i < PARSES_PER_RUN; i++) CollectionSpec.parse(bytes);
    const perParse = Number(process.hrtime.bigint() - p0) / PARSES_PER_RUN;
    if (r < WARMUP_RUNS) continue;
    total.push(median(t));
    net.push(median(n));
    parse.push(perParse);
  }
  const figures: Array<[string, number[], number]> = [
    [IDS[0] as string, total, LOADS_PER_RUN],
    [IDS[1] as string, net, LOADS_PER_RUN],
    [IDS[2] as string, parse, PARSES_PER_RUN],
  ];
  for (const [id, runs, ops] of figures)
    emit({ impl: 'node', layer, id, unit: 'ns/op', ops, runs, median: median(runs) });
}
