/**
 * Test-only bridge to the kernel until `@ebpf/sys` exists: compiles fixtures/bpf-run.c with gcc
 * once per test process, then loads and test-runs instruction bytes through it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** An array map the runner creates; programs reach map `i` as `fd_array[i]` (`ldMapIdx`). */
export interface ArrayMap {
  readonly valueSize: number;
  readonly entries: number;
}

/** How to load and run the program. */
export interface RunOptions {
  readonly type?: 'socket' | 'xdp' | 'sched_cls';
  readonly dataSize?: number;
  readonly maps?: readonly ArrayMap[];
}

/** What the runner printed. */
export type RunResult =
  | { ok: true; retval: number; tag: string; maps: string[][] }
  | { ok: false; stage: 'map' | 'load' | 'run'; errno: number; error: string; log?: string };

let runner: string | undefined;

function build(): string {
  if (runner !== undefined) return runner;
  const dir = mkdtempSync(join(tmpdir(), 'ebpf-asm-run-'));
  const out = join(dir, 'bpf-run');
  const src = new URL('./fixtures/bpf-run.c', import.meta.url).pathname;
  execFileSync('gcc', ['-O1', '-Wall', '-o', out, src], { stdio: 'inherit' });
  runner = out;
  return out;
}

/** Loads `bytes` as a program, runs it once, and returns the runner's report. */
export function bpfRun(bytes: Uint8Array, options: RunOptions = {}): RunResult {
  const args = ['--type', options.type ?? 'socket', '--data-size', String(options.dataSize ?? 64)];
  for (const map of options.maps ?? []) args.push('--map', `array:${map.valueSize}:${map.entries}`);
  const result = spawnSync(build(), args, { input: bytes, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (result.status !== 0) throw new Error(`bpf-run failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout) as RunResult;
}

/** Like {@link bpfRun}, but throws with the verifier log when loading or running fails. */
export function bpfRunOk(bytes: Uint8Array, options: RunOptions = {}): Extract<RunResult, { ok: true }> {
  const r = bpfRun(bytes, options);
  if (!r.ok) throw new Error(`${r.stage} failed: ${r.error} (errno ${r.errno})\n${r.log ?? ''}`);
  return r;
}
