#!/usr/bin/env node
// Adds up the JSON reports every workspace project's `test:unit` and `test:kernel` runs wrote
// (see vitest.shared.ts; turbo restores the report of a cached run) and prints the one line CI
// reads. Extra arguments name other CI checks that failed (lint); each counts as one failure.
// Exits non-zero when anything failed or a report is missing.
// `--clean` removes old reports instead (the root `pretest` script).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const projects = JSON.parse(
  execFileSync('pnpm', ['ls', '-r', '--depth', '-1', '--json'], { cwd: root, encoding: 'utf8' }),
);
let passed = 0;
let failed = 0;
const clean = process.argv[2] === '--clean';

/** One report's failures: failed tests, a file that failed before any test ran, an unhandled error. */
function failuresOf(name, result) {
  let failures = result.numFailedTests;
  // A file that failed before running a test (an import error, a kernel test under CI=true without
  // privileges) has no failed test to count: it counts as one failure of its own.
  for (const file of result.testResults ?? []) {
    if (file.status === 'failed' && !file.assertionResults?.some((t) => t.status === 'failed')) {
      console.error(`${name}: ${file.name} failed: ${(file.message ?? '').split('\n')[0]}`);
      failures += 1;
    }
  }
  // Anything else vitest counted as failing the run (an unhandled error) is one more.
  return failures + (result.success || failures > 0 ? 0 : 1);
}

for (const { path, name } of projects) {
  if (path === root.replace(/\/$/, '')) continue;
  const pkg = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'));
  for (const kind of ['unit', 'kernel']) {
    if (!pkg.scripts?.[`test:${kind}`]) continue;
    const report = join(path, '.vitest', `${kind}.json`);
    if (clean) {
      rmSync(report, { force: true });
      continue;
    }
    if (!existsSync(report)) {
      console.error(`${name}: no test:${kind} report at ${report} (its test run did not finish)`);
      failed += 1;
      continue;
    }
    const result = JSON.parse(readFileSync(report, 'utf8'));
    passed += result.numPassedTests;
    failed += failuresOf(name, result);
  }
}
if (clean) process.exit(0);
for (const check of process.argv.slice(2)) {
  console.error(`${check}: failed`);
  failed += 1;
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
