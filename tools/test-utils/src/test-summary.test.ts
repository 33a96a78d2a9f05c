/**
 * tools/test-summary.mjs, the line CI reads, run on a throwaway workspace: it adds up the unit
 * and the kernel report of every project and fails when any test failed or a report is missing.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const summary = new URL('../../test-summary.mjs', import.meta.url).pathname;
const scripts = { 'test:unit': 'vitest run', 'test:kernel': 'vitest run kernel.test.ts' };

let workspace = '';

function project(name: string, reports: Partial<Record<'unit' | 'kernel', object>>): void {
  const dir = join(workspace, 'packages', name);
  mkdirSync(join(dir, '.vitest'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, scripts }));
  for (const [kind, report] of Object.entries(reports)) {
    writeFileSync(join(dir, '.vitest', `${kind}.json`), JSON.stringify(report));
  }
}

function report(passed: number, failed: number): object {
  return { numPassedTests: passed, numFailedTests: failed, success: failed === 0, testResults: [] };
}

function run(): { status: number | null; stdout: string; stderr: string } {
  mkdirSync(join(workspace, 'tools'));
  copyFileSync(summary, join(workspace, 'tools', 'test-summary.mjs'));
  return spawnSync('node', [join(workspace, 'tools', 'test-summary.mjs')], { encoding: 'utf8' });
}

describe('test-summary', () => {
  beforeEach(() => {
    workspace = mkdtempSync(join(tmpdir(), 'test-summary-'));
    writeFileSync(join(workspace, 'package.json'), JSON.stringify({ name: 'root', private: true }));
    writeFileSync(join(workspace, 'pnpm-workspace.yaml'), 'packages:\n  - packages/*\n');
  });
  afterEach(() => rmSync(workspace, { recursive: true, force: true }));

  it('adds up the unit and the kernel reports of every project', () => {
    project('a', { unit: report(3, 0), kernel: report(2, 0) });
    project('b', { unit: report(1, 0), kernel: report(0, 0) });
    const { status, stdout } = run();
    expect(stdout).toBe('tests: 6 passed, 0 failed\n');
    expect(status).toBe(0);
  });

  it('fails when a kernel test failed', () => {
    project('a', { unit: report(3, 0), kernel: report(2, 1) });
    const { status, stdout } = run();
    expect(stdout).toBe('tests: 5 passed, 1 failed\n');
    expect(status).toBe(1);
  });

  it('fails when a report is missing, naming it', () => {
    project('a', { unit: report(3, 0) });
    const { status, stdout, stderr } = run();
    expect(stdout).toBe('tests: 3 passed, 1 failed\n');
    expect(stderr).toContain('a: no test:kernel report');
    expect(status).toBe(1);
  });
});
