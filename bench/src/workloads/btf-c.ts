/**
 * `btf.toC.vmlinux`: this machine's vmlinux written as a C header, ours against bpftool in the
 * same process and runs. Ours: `Btf.parse` of the bytes (read once, untimed) and `toC()` on the
 * fresh `Btf`, so every type is decoded again each run. C: the whole
 * `bpftool btf dump file /sys/kernel/btf/vmlinux format c` process, output to /dev/null (so it
 * includes starting a process and reading the file, a few ms). Each run checks both headers are
 * equal. `btf.toC.vmlinux.warm` (information): `toC()` alone, on a Btf that already decoded
 * every type. Usage: btf-c.ts btf
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type * as BtfModule from '@ebpf/btf';
import {
  ALL_RUNS,
  check,
  emit,
  landed,
  layerArg,
  median,
  notAvailable,
  Runs,
  WARMUP_RUNS,
} from '../harness.ts';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const IDS = ['btf.toC.vmlinux', 'btf.toC.vmlinux.warm'];
const BPFTOOL = ['btf', 'dump', 'file', VMLINUX, 'format', 'c'];

/** One bpftool run's wall time in ns; its output when `keep`. */
function bpftool(keep: boolean): { ns: number; header?: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bpftool', BPFTOOL, {
    stdio: ['ignore', keep ? 'pipe' : 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const t1 = process.hrtime.bigint();
  check(r.status === 0, `bpftool ${BPFTOOL.join(' ')}: ${r.stderr || r.error?.message}`);
  return { ns: Number(t1 - t0), ...(keep ? { header: r.stdout } : {}) };
}

async function main(): Promise<void> {
  const layer = layerArg(['btf']);
  const mod = await landed<typeof BtfModule>('@ebpf/btf', ['Btf']);
  if ('reason' in mod) {
    notAvailable(layer, IDS, mod.reason);
    return;
  }
  const { Btf } = mod.mod;
  const bytes = readFileSync(VMLINUX);
  const expected = bpftool(true).header;
  const fresh = new Runs(layer, IDS[0]!, 'ns/op', 1);
  const warm = new Runs(layer, IDS[1]!, 'ns/op', 1);
  const c: number[] = [];
  for (let run = 0; run < ALL_RUNS; run++) {
    const t0 = process.hrtime.bigint();
    const btf = Btf.parse(bytes);
    const header = btf.toC();
    const t1 = process.hrtime.bigint();
    fresh.record(run, t0, t1);
    check(header === expected, 'toC() equals bpftool');
    const t2 = process.hrtime.bigint();
    btf.toC();
    warm.record(run, t2, process.hrtime.bigint());
    const { ns } = bpftool(false);
    if (run >= WARMUP_RUNS) c.push(ns);
  }
  fresh.emit();
  warm.emit();
  emit({ impl: 'c', layer: 'c', id: IDS[0]!, unit: 'ns/op', ops: 1, runs: c, median: median(c) });
}

await main();
