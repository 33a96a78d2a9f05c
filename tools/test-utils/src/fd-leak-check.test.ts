import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('../test/leak-fixture', import.meta.url));
const vitest = join(createRequire(import.meta.url).resolve('vitest/package.json'), '../vitest.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'fd-leak-check-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Report {
  testResults: { name: string; status: string; message: string }[];
}

it('fails the test file that leaks a descriptor, naming it, and passes the one that closes its own', () => {
  const report = join(scratch, 'report.json');
  const run = spawnSync(process.execPath, [vitest, 'run', '--root', fixture, `--outputFile.json=${report}`], {
    encoding: 'utf8',
    env: { ...process.env, CI: '' },
    timeout: 120_000,
  });
  expect(run.status, run.stderr).toBe(1);
  const files = (JSON.parse(readFileSync(report, 'utf8')) as Report).testResults;
  const status = Object.fromEntries(files.map((file) => [file.name.split('/').pop(), file]));
  expect(status['tidy.kernel.test.ts']?.status).toBe('passed');
  expect(status['leaks.kernel.test.ts']?.status).toBe('failed');
  expect(`${run.stdout}${run.stderr}`).toMatch(/leaked 1 file descriptor\(s\): \d+ -> \/dev\/null/);
});
