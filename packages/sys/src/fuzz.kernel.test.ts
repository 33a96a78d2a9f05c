import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { packageRoot } from './native.ts';

const child = fileURLToPath(new URL('./test/fuzz-child.mjs', import.meta.url));
const seeds = (process.env.EBPF_SYS_FUZZ_SEEDS ?? '1,2,3').split(',').map(Number);
// 1,500 rounds a seed (~45,000 calls each): a few seconds on an idle machine; the generous
// timeouts are for busy ones, where the kernel side of map and program lifetimes slows down.
const rounds = Number(process.env.EBPF_SYS_FUZZ_ROUNDS ?? 1500);

interface Report {
  calls: number;
  errors: number;
  returned: number;
  kinds: Record<string, number>;
  counts: Record<string, number>;
  /** Writable mappings mmap() returned, each written on every page; those then unmapped. */
  mapped: number;
  unmapped: number;
}

requireKernel('fuzz: random and hostile arguments at every export', () => {
  for (const seed of seeds) {
    it(`seed ${seed}: ${rounds} rounds, errors only, no crash, canaries intact`, () => {
      // A child process, so that a crash (SIGSEGV, abort) is a failed test rather than a dead runner.
      const run = spawnSync(
        process.execPath,
        ['--no-deprecation', child, packageRoot, String(seed), String(rounds)],
        {
          encoding: 'utf8',
          timeout: 600_000,
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      const detail = `signal ${run.signal}, status ${run.status}\n${run.stderr}`;
      expect(run.signal, detail).toBeNull();
      expect(run.status, detail).toBe(0);
      const report = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Report;
      expect(report.calls).toBeGreaterThan(rounds * 28);
      expect(report.counts.bpf).toBe(rounds);
      // Both sides were exercised: argument errors and kernel errors, and calls that succeeded.
      expect(report.kinds.TypeError).toBeGreaterThan(0);
      expect(report.kinds.RangeError).toBeGreaterThan(0);
      expect(report.kinds.FuzzSysError).toBeGreaterThan(0);
      expect(report.returned).toBeGreaterThan(rounds);
      // mmap() handed out writable mappings (of arrays, arenas, ring buffer and perf pages) and
      // every one took a write on each page; munmap() was abused after each.
      expect(report.mapped).toBeGreaterThan(rounds / 20);
      expect(report.unmapped).toBeGreaterThan(0);
    }, 620_000);
  }
});
