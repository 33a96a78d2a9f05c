/**
 * W8.btf (shared/BENCH.md): `kernelBtf()` of `@ebpf/btf/node` in a cold process. Runs 5 fresh
 * processes of itself (`btf.ts core --child`), each timing kernelBtf() (read and parse
 * /sys/kernel/btf/vmlinux) and a first typeByName('task_struct', 'struct'), and measuring the
 * JavaScript memory (V8 heap + external, after a full GC) the parsed BTF keeps. Prints the best
 * of the 5 of each figure, like the C baseline (c/btf.c, libbpf's btf__parse). A cold start has
 * no steady state, so this workload does not use the warm-up protocol of the others.
 * Needs `node --expose-gc`. Usage: btf.ts core
 */
import { spawnSync } from 'node:child_process';
import { check, emit, landed, layerArg, notAvailable } from '../harness.ts';

const IDS = ['W8.btf.parse_vmlinux', 'W8.btf.parse', 'W8.btf.first_lookup', 'W8.btf.retained'];
const PROCESSES = 5;

const gc = (globalThis as { gc?: () => void }).gc;
check(gc, 'run with node --expose-gc');

function jsMemory(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** One cold measurement, printed as `parse_ns lookup_ns retained_bytes`. */
async function child(): Promise<void> {
  const btf = await landed<typeof import('@ebpf/btf/node')>('@ebpf/btf/node', ['kernelBtf']);
  if ('reason' in btf) {
    console.log(`na ${btf.reason}`);
    return;
  }
  const before = jsMemory();
  const t0 = process.hrtime.bigint();
  const vmlinux = btf.mod.kernelBtf();
  const t1 = process.hrtime.bigint();
  const task = vmlinux.typeByName('task_struct', 'struct');
  const t2 = process.hrtime.bigint();
  check(task?.kind === 'struct', 'typeByName(task_struct) finds the struct');
  console.log(`${t1 - t0} ${t2 - t1} ${jsMemory() - before}`);
}

function parent(): void {
  const layer = layerArg(['core']);
  const runs: number[][] = [[], [], [], []];
  for (let i = 0; i < PROCESSES; i++) {
    const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, layer, '--child'], {
      encoding: 'utf8',
    });
    check(r.status === 0, `child ${i}: ${r.stderr}`);
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    if (line.startsWith('na ')) {
      notAvailable(layer, IDS, line.slice(3));
      return;
    }
    const [parse, lookup, retained] = line.split(' ').map(Number) as [number, number, number];
    check(parse > 0 && lookup > 0, `child ${i} printed ${line}`);
    runs[0]!.push(parse + lookup);
    runs[1]!.push(parse);
    runs[2]!.push(lookup);
    runs[3]!.push(retained);
  }
  for (const [i, id] of IDS.entries())
    emit({
      impl: 'node',
      layer,
      id,
      unit: id === 'W8.btf.retained' ? 'bytes' : 'ns/op',
      ops: 1,
      runs: runs[i]!,
      median: Math.min(...runs[i]!),
    });
}

if (process.argv.includes('--child')) await child();
else parent();
