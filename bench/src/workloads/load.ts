/**
 * Program load time: the 1,000-instruction socket filter of programs.ts (the same bytes the C
 * baseline loads, from bench/.build/load-1000.bin), loaded 20 times per run with log_level 4
 * (BPF_LOG_STATS). Figures per load: the whole load, the verifier's own time (the "verification
 * time N usec" line of the log), and the load less the verifier's time: what we add around it;
 * each the median of the run's 20 loads.
 * Layer core-insns (information, no API/floor target: the floor takes bytes) loads the same
 * program given as the @ebpf/asm Instruction objects those bytes decode to (decoded untimed), so
 * its figure includes encoding them, what a program written with the builders pays.
 * Usage: load.ts sys|core|core-insns --program FILE
 */
import { readFileSync } from 'node:fs';
import type * as Asm from '@ebpf/asm';
import type * as Core from '@ebpf/core';
import {
  ALL_RUNS,
  buffer,
  check,
  emit,
  type Layer,
  landed,
  layerArg,
  median,
  notAvailable,
  WARMUP_RUNS,
} from '../harness.ts';
import { floor, loadProgram } from '../sys-floor.ts';

const LOADS_PER_RUN = 20;
const LOG_STATS = 4;
const IDS = ['load.1000_insns', 'load.1000_insns.verifier', 'load.1000_insns.minus_verifier'];

/** The verifier's own time in ns, from a BPF_LOG_STATS log. */
export function verifierNs(log: string): number {
  const m = /verification time (\d+) usec/.exec(log);
  check(m, `no verification time in the log: ${log.slice(0, 200)}`);
  return Number(m[1]) * 1000;
}

/**
 * Loads `LOADS_PER_RUN` times per run; `load` loads and closes (timed), `log` returns the last
 * load's log text (untimed).
 */
function run(layer: Layer, load: () => void, log: () => string): void {
  const total: number[] = [];
  const verifier: number[] = [];
  const net: number[] = [];
  for (let r = 0; r < ALL_RUNS; r++) {
    const t: number[] = [];
    const v: number[] = [];
    const n: number[] = [];
    for (let i = 0; i < LOADS_PER_RUN; i++) {
      const t0 = process.hrtime.bigint();
      load();
      const t1 = process.hrtime.bigint();
      t.push(Number(t1 - t0));
      v.push(verifierNs(log()));
      n.push(t.at(-1)! - v.at(-1)!);
    }
    if (r < WARMUP_RUNS) continue;
    // Per run, the median load: one load preempted by other work does not move it.
    total.push(median(t));
    verifier.push(median(v));
    net.push(median(n));
  }
  for (const [i, runs] of [total, verifier, net].entries()) {
    emit({ impl: 'node', layer, id: IDS[i]!, unit: 'ns/op', ops: LOADS_PER_RUN, runs, median: median(runs) });
  }
}

const layer = layerArg(['sys', 'core', 'core-insns']);
const file = process.argv[process.argv.indexOf('--program') + 1]!;
const insns = copy(readFileSync(file));

function copy(b: Uint8Array): Uint8Array {
  const out = buffer(b.length);
  out.set(b);
  return out;
}

if (layer === 'sys') {
  const f = await floor(['close']);
  if ('reason' in f) notAvailable(layer, IDS, f.reason);
  else {
    const log = buffer(1 << 16);
    const decoder = new TextDecoder();
    run(
      layer,
      () => {
        log[0] = 0;
        f.sys.close(loadProgram(f, f.uapi.ProgType.SocketFilter, insns, LOG_STATS, log));
      },
      () => {
        const end = log.indexOf(0);
        return decoder.decode(log.subarray(0, end < 0 ? log.length : end));
      },
    );
  }
} else {
  const core = await landed<typeof Core>('@ebpf/core', ['BpfProgram']);
  const asm =
    layer === 'core-insns' ? await landed<typeof Asm>('@ebpf/asm', ['decode', 'encode']) : undefined;
  if ('reason' in core) notAvailable(layer, IDS, core.reason);
  else if (asm !== undefined && 'reason' in asm) notAvailable(layer, IDS, asm.reason);
  else {
    const { BpfProgram } = core.mod;
    let instructions: Uint8Array | Asm.Instruction[] = insns;
    if (asm !== undefined) {
      instructions = asm.mod.decode(insns);
      const again = asm.mod.encode(instructions);
      check(
        again.length === insns.length && again.every((b, i) => b === insns[i]),
        'the decoded instructions encode to the program bytes',
      );
    }
    let log = '';
    run(
      layer,
      () => {
        const prog = BpfProgram.load({
          type: 'socket_filter',
          instructions,
          license: 'GPL',
          logLevel: LOG_STATS,
        });
        log = prog.verifierLog ?? '';
        prog.close();
      },
      () => log,
    );
  }
}
