/**
 * `pnpm bench [--quick] [--rounds N] [--only W1,W3] [--source]`: compiles the C baseline with the
 * machine's gcc, then runs the C and the Node processes of every workload interleaved over
 * several rounds (rotating their order each round), and prints the table of medians and ratios
 * (shared/BENCH.md method). Writes everything, all runs included, to bench/results/latest.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure, Layer } from './harness.ts';
import { loadTestProgram } from './programs.ts';
import { API_VS_FLOOR_MAX, buildRows, type RoundFigure, type Row, type Target } from './stats.ts';

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = path.join(benchDir, '.build');
const resultsDir = path.join(benchDir, 'results');

interface Options {
  quick: boolean;
  rounds: number;
  only?: Set<string>;
  source: boolean;
}

function parseArgs(argv: string[]): Options {
  const args = argv.filter((a) => a !== '--');
  const quick = args.includes('--quick');
  const opts: Options = { quick, rounds: quick ? 1 : 8, source: args.includes('--source') };
  const at = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const rounds = at('--rounds');
  if (rounds) opts.rounds = Math.max(1, Number.parseInt(rounds, 10));
  const only = at('--only');
  if (only) opts.only = new Set(only.split(','));
  return opts;
}

/** A workload group: the C command and the Node module that measure the same figures. */
interface Group {
  name: string;
  /** The figures its processes print (a failed process is shown as failed on each). */
  ids: string[];
  c?: string[];
  /** A second C baseline, libbpf's reader (`c/libbpf.c`), shown as the `c-libbpf` layer. */
  libbpf?: string[];
  node: string;
  layers: Layer[];
  /** Run once (not per round): too slow or not a timing comparison. */
  once?: boolean;
}

const loadProgram = path.join(buildDir, 'load-1000.bin');

const groups: Group[] = [
  { name: 'W0', ids: ['W0.context'], c: ['workloads', 'W0'], node: 'w0-context.ts', layers: ['sys'] },
  {
    name: 'W1',
    ids: ['W1.hash.update', 'W1.hash.lookup', 'W1.hash.delete'],
    c: ['workloads', 'W1'],
    node: 'w1-hash.ts',
    layers: ['sys', 'core', 'core-codec'],
  },
  {
    name: 'W2',
    ids: ['W2.array.update', 'W2.array.lookup'],
    c: ['workloads', 'W2'],
    node: 'w2-array.ts',
    layers: ['sys', 'core', 'core-codec'],
  },
  {
    name: 'W3',
    ids: ['W3.hash.lookup_batch'],
    c: ['workloads', 'W3'],
    node: 'w3-batch.ts',
    layers: ['sys', 'core', 'core-codec'],
  },
  {
    name: 'W4',
    ids: ['W4.test_run.syscall'],
    c: ['workloads', 'W4'],
    node: 'w4-test-run.ts',
    layers: ['sys', 'core', 'core-run'],
  },
  {
    name: 'W5',
    ids: ['W5.ringbuf.consume'],
    c: ['workloads', 'W5'],
    libbpf: ['libbpf', 'W5'],
    node: 'w5-ringbuf.ts',
    layers: [
      'sys',
      'sys-plain',
      'sys-drain',
      'core',
      'core-next',
      'core-transient',
      'core-await',
      'core-batches',
    ],
  },
  {
    name: 'W6',
    ids: ['W6.mmap_array.write', 'W6.mmap_array.read'],
    c: ['workloads', 'W6'],
    node: 'w6-mmap-array.ts',
    layers: ['sys', 'core'],
  },
  // BENCH.md W7: the C baseline is libbpf's perf buffer reader itself.
  {
    name: 'W7',
    ids: ['W7.perf.consume'],
    c: ['libbpf', 'W7'],
    node: 'w7-perf.ts',
    layers: ['core', 'core-next'],
  },
  { name: 'asm', ids: ['asm.encode', 'asm.decode', 'asm.assemble'], node: 'asm.ts', layers: ['asm'] },
  { name: 'btf-c', ids: ['btf.toC.vmlinux', 'btf.toC.vmlinux.warm'], node: 'btf-c.ts', layers: ['btf'] },
  { name: 'core', ids: ['core.relocation', 'core.index_cold'], node: 'core.ts', layers: ['btf'] },
  {
    name: 'load',
    ids: ['load.1000_insns', 'load.1000_insns.verifier', 'load.1000_insns.minus_verifier'],
    c: ['load', 'load', loadProgram],
    node: 'load.ts',
    layers: ['sys', 'core', 'core-insns'],
  },
  {
    name: 'W8',
    ids: ['W8.btf.parse_vmlinux', 'W8.btf.parse', 'W8.btf.first_lookup', 'W8.btf.retained'],
    c: ['btf', 'parse'],
    node: 'btf.ts',
    layers: ['core'],
  },
  {
    name: 'object',
    ids: ['object.20_progs.load', 'object.20_progs.minus_verifier', 'object.parse'],
    c: ['object', path.join(buildDir, 'object-20.o')],
    node: 'object.ts',
    layers: ['core'],
  },
  {
    name: 'mem',
    ids: ['mem.hold_1000.rss', 'mem.hold_1000.js', 'mem.heap_growth'],
    c: ['load', 'hold', '1000'],
    node: 'memory.ts',
    layers: ['sys', 'core'],
    once: true,
  },
];

/** The target each figure is held to (shared/BENCH.md, issue 7). */
function targetOf(id: string): Target {
  if (id.startsWith('W1.')) return { kind: 'ratio', max: 1.3 };
  if (id.startsWith('W2.')) return { kind: 'ratio', max: 1.45 };
  if (id.startsWith('W3.')) return { kind: 'ratio', max: 1.1 };
  if (id.startsWith('W4.')) return { kind: 'ratio', max: 1.3 };
  if (id.startsWith('W5.')) return { kind: 'ratio', max: 1.25 };
  if (id.startsWith('W6.')) return { kind: 'rate', min: 300e6 };
  if (id.startsWith('W7.')) return { kind: 'ratio', max: 1.25 };
  if (id === 'mem.heap_growth') return { kind: 'bytes', max: 1 << 20 };
  if (id === 'W8.btf.parse_vmlinux') return { kind: 'ratio', max: 2 };
  if (id === 'W8.btf.retained') return { kind: 'bytes', max: 20 << 20 };
  return { kind: 'none' };
}

function compileC(): void {
  mkdirSync(buildDir, { recursive: true });
  // The libbpf baselines (BTF parse, ring and perf buffer consume, object load) link Debian's
  // libbpf-dev; the others call bpf() directly.
  for (const [name, libs] of [
    ['workloads', []],
    ['load', []],
    ['btf', ['-lbpf']],
    ['libbpf', ['-lbpf']],
    // common.h's raw-syscall helpers are unused by the object baseline.
    ['object', ['-lbpf', '-Wno-unused-function']],
  ] as const) {
    execFileSync(
      'gcc',
      [
        '-O2',
        '-Wall',
        '-Wextra',
        '-Werror',
        '-o',
        path.join(buildDir, name),
        path.join(benchDir, 'c', `${name}.c`),
        ...libs,
      ],
      { stdio: 'inherit' },
    );
  }
  compileObjectWorkload();
}

/** The BPF object of the `object` workload, built by clang. */
function compileObjectWorkload(): void {
  execFileSync(
    'clang-16',
    [
      '-O2',
      '-g',
      '-target',
      'bpfel',
      '-I/usr/include/x86_64-linux-gnu',
      '-c',
      path.join(benchDir, 'c', 'object-20.bpf.c'),
      '-o',
      path.join(buildDir, 'object-20.o'),
    ],
    { stdio: 'inherit' },
  );
}

function tsxImport(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    throw new Error('bench: tsx is not installed; run `pnpm install` (tools/setup.sh) first');
  }
}

interface Job {
  group: Group;
  layer: Layer;
  argv: string[];
}

function jobsOf(group: Group, opts: Options, tsx: string): Job[] {
  const jobs: Job[] = [];
  if (group.c)
    jobs.push({ group, layer: 'c', argv: [path.join(buildDir, group.c[0]!), ...group.c.slice(1)] });
  if (group.libbpf)
    jobs.push({
      group,
      layer: 'c-libbpf',
      argv: [path.join(buildDir, group.libbpf[0]!), ...group.libbpf.slice(1)],
    });
  for (const layer of group.layers) {
    const node = [process.execPath, '--expose-gc', '--import', tsx];
    if (opts.source) node.push('--conditions=@ebpf/source');
    node.push(path.join(benchDir, 'src', 'workloads', group.node), layer);
    if (opts.quick) node.push('--quick');
    node.push('--program', loadProgram);
    jobs.push({ group, layer, argv: node });
  }
  return jobs;
}

/** Runs one process; its JSON lines become figures, a failure becomes an `na` line. */
function runJob(job: Job, round: number): RoundFigure[] {
  // Every measured process, C and Node alike, runs at nice -10 when we may (root): other work on
  // the machine then disturbs it less. Without the privilege nice warns and runs it as is.
  const r = spawnSync('nice', ['-n', String(NICE), ...job.argv], {
    cwd: benchDir,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const out: RoundFigure[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    out.push({ ...(JSON.parse(line) as Figure), round });
  }
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n');
    const msg = why.find((l) => /check failed|Error|error/.test(l)) ?? why.at(-1) ?? '';
    process.stderr.write(`bench: ${job.group.name}/${job.layer} failed (round ${round + 1}): ${msg}\n`);
    const printed = new Set(out.map((f) => f.id));
    for (const id of job.group.ids) {
      if (printed.has(id)) continue;
      out.push({
        impl: job.layer === 'c' ? 'c' : 'node',
        layer: job.layer,
        id,
        unit: 'ns/op',
        ops: 0,
        runs: [],
        median: Number.NaN,
        na: `failed: ${msg.slice(0, 160)}`,
        round,
      });
    }
  }
  return out;
}

/** Niceness of the measured processes. */
const NICE = -10;

function rotate<T>(list: T[], by: number): T[] {
  const k = by % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

function cpuModel(): string {
  return os.cpus()[0]?.model ?? 'unknown';
}

function fmt(unit: Figure['unit'], v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '–';
  switch (unit) {
    case 'ns/op':
      return v >= 1e6
        ? `${(v / 1e6).toFixed(2)} ms`
        : v >= 1e4
          ? `${(v / 1e3).toFixed(1)} µs`
          : `${v.toFixed(0)} ns`;
    case 'ops/s':
      return v >= 1e9 ? `${(v / 1e9).toFixed(2)} G/s` : `${(v / 1e6).toFixed(2)} M/s`;
    case 'KiB':
      return `${(v / 1024).toFixed(1)} MiB`;
    case 'bytes':
      return Math.abs(v) >= 1 << 20 ? `${(v / (1 << 20)).toFixed(2)} MiB` : `${(v / 1024).toFixed(1)} KiB`;
  }
}

function targetText(t: Target): string {
  switch (t.kind) {
    case 'ratio':
      return `≤ ${t.max}×`;
    case 'rate':
      return `≥ ${t.min / 1e6} M/s`;
    case 'bytes':
      return `< ${t.max >> 20} MiB`;
    case 'none':
      return '–';
  }
}

const layerName: Record<Layer, string> = {
  c: 'C',
  sys: 'sys floor',
  'sys-plain': 'sys plain loads (info)',
  'sys-drain': 'sys native drain (info)',
  'c-libbpf': 'C libbpf',
  core: 'core API',
  'core-next': 'core, next() (info)',
  'core-transient': 'core, nextTransient() (info)',
  'core-await': 'core, for await (info)',
  'core-batches': 'core, for await batches() (info)',
  'core-run': 'core, prog.run() (info)',
  'core-insns': 'core, Instruction[] (info)',
  'core-codec': 'core codecs',
  asm: 'asm',
  btf: '@ebpf/btf',
};

function table(rows: Row[]): string {
  const head = [
    'workload',
    'layer',
    'ours',
    'C',
    'ratio',
    'rounds',
    'target',
    'result',
    'API/floor',
    'result',
  ];
  const body = rows.map((r) => {
    if (r.na)
      return [
        r.id,
        layerName[r.layer],
        `n/a (${r.na})`,
        fmt(r.unit, r.c),
        '',
        '',
        targetText(r.target),
        '',
        '',
        '',
      ];
    let result = r.pass === undefined ? '' : r.pass ? 'pass' : 'MISS';
    if (r.failedRounds) result = `${result} (FAILED in ${r.failedRounds.length} round(s))`.trim();
    const vs = r.vsFloor === undefined ? '' : `${r.vsFloor.toFixed(2)}×`;
    const vsResult = r.vsFloorPass === undefined ? '' : r.vsFloorPass ? 'pass' : 'MISS';
    const ratio = r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`;
    const spread =
      r.ratios && r.ratios.length > 1
        ? `${Math.min(...r.ratios).toFixed(2)}–${Math.max(...r.ratios).toFixed(2)}`
        : '';
    return [
      r.id,
      layerName[r.layer],
      fmt(r.unit, r.ours),
      fmt(r.unit, r.c),
      ratio,
      spread,
      targetText(r.target),
      result,
      vs,
      vsResult,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** The commit measured, with `+dirty` when the work tree has changes; undefined outside git. */
function gitCommit(): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: benchDir, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: benchDir,
      encoding: 'utf8',
    }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return undefined;
  }
}

/** JSON with one line per top-level field and per element of its arrays: diffs stay readable. */
function compactJson(value: Record<string, unknown>): string {
  const fields = Object.entries(value).map(([key, v]) => {
    const body = Array.isArray(v)
      ? `[\n${v.map((e) => `    ${JSON.stringify(e)}`).join(',\n')}\n  ]`
      : JSON.stringify(v);
    return `  ${JSON.stringify(key)}: ${body}`;
  });
  return `{\n${fields.join(',\n')}\n}\n`;
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  compileC();
  writeFileSync(loadProgram, loadTestProgram());
  const tsx = tsxImport();
  const selected = groups.filter((g) => !opts.only || opts.only.has(g.name));
  console.log(
    `ebpf-ts bench: ${opts.rounds} round(s)${opts.quick ? ' (--quick: 1 round instead of 8, fewer asm repeats, 1M instead of 10M lookups for the heap figure; use the full run for quotable ratios)' : ''}`,
  );
  const loadBefore = os.loadavg();
  if (loadBefore[0]! > os.cpus().length * 0.5) {
    console.log(
      `  note: load average ${loadBefore[0]!.toFixed(1)} on ${os.cpus().length} CPUs: other work is running, expect noisy ratios`,
    );
  }
  const figures: RoundFigure[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    for (const group of rotate(selected, round)) {
      if (group.once && round > 0) continue;
      for (const job of rotate(jobsOf(group, opts, tsx), round)) figures.push(...runJob(job, round));
    }
    process.stdout.write(
      `  round ${round + 1}/${opts.rounds} done (${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
    );
  }
  const rows = buildRows(figures, targetOf);
  // The plain-loads ring walk is shown for information (not a BENCH.md layer): no target.
  for (const row of rows) {
    if (row.layer !== 'sys-plain' && row.layer !== 'sys-drain') continue;
    row.target = { kind: 'none' };
    delete row.pass;
  }
  // W5's and W7's core rows are held to libbpf's ratio in the same run (BENCH.md); libbpf's own
  // row and the next() rows are information. For W7 the C baseline is libbpf itself.
  const libbpfRatio = rows.find((r) => r.id === 'W5.ringbuf.consume' && r.layer === 'c-libbpf')?.ratio;
  for (const row of rows) {
    if (
      row.layer === 'c-libbpf' ||
      row.layer === 'core-next' ||
      row.layer === 'core-transient' ||
      row.layer === 'core-await' ||
      row.layer === 'core-batches'
    ) {
      row.target = { kind: 'none' };
      delete row.pass;
      delete row.vsFloorPass;
    } else if (row.id === 'W5.ringbuf.consume' && row.layer === 'core' && libbpfRatio !== undefined) {
      row.target = { kind: 'ratio', max: Number(libbpfRatio.toFixed(2)) };
      if (row.ratio !== undefined) row.pass = row.ratio <= row.target.max;
    } else if (row.id === 'W7.perf.consume') {
      row.target = { kind: 'ratio', max: 1 };
      if (row.ratio !== undefined) row.pass = row.ratio <= 1;
    }
  }
  // prog.run() copies the packet in and returns a new result object, which the floor does not:
  // its API/floor figure is shown for information (the runner is the API the floor matches).
  for (const row of rows) if (row.layer === 'core-run') delete row.vsFloorPass;
  console.log();
  console.log(table(rows));
  console.log();
  console.log(
    `ratio: median over rounds of the same-round ratio to C (> 1: we cost more); rounds: the lowest and highest of those ratios. API/floor: the public @ebpf/core API over our own @ebpf/sys floor, target ≤ ${API_VS_FLOOR_MAX}×.`,
  );
  const loadAfter = os.loadavg();
  console.log(
    `load average (1 min) before ${loadBefore[0]!.toFixed(2)}, after ${loadAfter[0]!.toFixed(2)} on ${os.cpus().length} CPUs`,
  );
  const misses = rows.filter((r) => r.pass === false || r.vsFloorPass === false || r.failedRounds).length;
  const nas = rows.filter((r) => r.na).length;
  console.log(
    `${misses} miss(es), ${nas} row(s) not measured; ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  const result = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    quick: opts.quick,
    rounds: opts.rounds,
    machine: {
      hostname: os.hostname(),
      cpu: cpuModel(),
      cpus: os.cpus().length,
      kernel: os.release(),
      node: process.version,
      gcc: execFileSync('gcc', ['-dumpfullversion'], { encoding: 'utf8' }).trim(),
      totalMemory: os.totalmem(),
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadAfter,
      niceness: NICE,
    },
    rows,
    figures,
  };
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, opts.quick || opts.only ? 'quick.json' : 'latest.json');
  writeFileSync(file, compactJson(result));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main();
