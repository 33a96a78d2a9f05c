#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
// Adds up the JSON reports every workspace project's vitest run wrote (see vitest.shared.ts)
// and prints the one line CI reads. Extra arguments name other CI checks that failed (lint);
// each counts as one failure. Exits non-zero when anything failed or a report is missing.
// `--clean` removes old reports instead (the root `pretest` script).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const projects = JSON.parse(
  execFileSync('pnpm', ['ls', '-r', '--depth', '-1', '--json'], { cwd: root, encoding: 'utf8' }),
);
let passed = 0;
let failed = 0;
const clean = process.argv[2] === '--clean';
for (const { path, name } of projects) {
  if (path === root.replace(/\/$/, '')) continue;
  const pkg = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'));
  if (!pkg.scripts?.test) continue;
  const report = join(path, '.vitest', 'results.json');
  if (clean) {
    rmSync(report, { force: true });
    continue;
  }
  if (!existsSync(report)) {
    console.error(`${name}: no test report at ${report} (its test run did not finish)`);
    failed += 1;
    continue;
  }
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed += result.numPassedTests;
  // A file that failed before running a test (an import error, a kernel test under CI=true without
  // privileges) has no failed test to count: it counts as one failure of its own.
  let failures = result.numFailedTests;
  for (const file of result.testResults ?? []) {
    if (file.status === 'failed' && !file.assertionResults?.some((t) => t.status === 'failed')) {
      console.error(`${name}: ${file.name} failed: ${(file.message ?? '').split('\n')[0]}`);
      failures += 1;
    }
  }
  // Anything else vitest counted as failing the run (an unhandled error) is one more.
  failed += failures + (result.success || failures > 0 ? 0 : 1);
}
if (clean) process.exit(0);
for (const check of process.argv.slice(2)) {
  console.error(`${check}: failed`);
  failed += 1;
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
