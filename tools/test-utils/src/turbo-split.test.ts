/**
 * Proves the split of pure and kernel tests in turbo.json: after a change to @ebpf/asm alone,
 * `pnpm test` reruns only the tasks of @ebpf/asm and of the packages that depend on it. The
 * native addon (`@ebpf/sys#build`) and the kernel tests of packages that do not use the
 * assembler keep their cache keys. A task reruns exactly when its hash changes, so the test
 * compares the hashes `turbo run test --dry=json` reports before and after touching asm.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../..', import.meta.url).pathname;
const turbo = join(root, 'node_modules/.bin/turbo');

interface DryTask {
  taskId: string;
  task: string;
  package: string;
  hash: string;
  command: string;
  dependencies: string[];
  resolvedTaskDefinition: { cache: boolean; env: string[] };
}

function dryRun(): Map<string, DryTask> {
  const out = execFileSync(turbo, ['run', 'test', '--dry=json'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, EBPF_TEST_HOST: 'turbo-split-test' },
  });
  const tasks = (JSON.parse(out) as { tasks: DryTask[] }).tasks;
  return new Map(tasks.map((t) => [t.taskId, t]));
}

/** The workspace packages that depend on `name`, directly or not, read from package.json files. */
function dependentsOf(name: string): Set<string> {
  const projects = JSON.parse(
    execFileSync('pnpm', ['ls', '-r', '--depth', '-1', '--json'], { cwd: root, encoding: 'utf8' }),
  ) as { name: string; path: string }[];
  const depsOf = new Map(
    projects.map(({ name: project, path }) => {
      const pkg = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'));
      return [project, Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })];
    }),
  );
  const found = new Set([name]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [project, deps] of depsOf) {
      if (!found.has(project) && deps.some((d) => found.has(d))) {
        found.add(project);
        grew = true;
      }
    }
  }
  return found;
}

describe('turbo test split', () => {
  const before = dryRun();

  it('runs the unit and the kernel tests of every package that has tests', () => {
    const tested = [...before.values()].filter(
      (t) => t.task === 'test:unit' && t.command !== '<NONEXISTENT>',
    );
    expect(tested.length).toBeGreaterThan(5);
    for (const { package: pkg } of tested) {
      expect(before.get(`${pkg}#test`)?.dependencies).toEqual(
        expect.arrayContaining([`${pkg}#test:unit`, `${pkg}#test:kernel`]),
      );
      expect(before.get(`${pkg}#test`)?.command).toBe('<NONEXISTENT>');
    }
  });

  it('keys kernel tests on the host they ran on', () => {
    const kernelTests = [...before.values()].filter((t) => t.task === 'test:kernel');
    expect(kernelTests.length).toBeGreaterThan(5);
    for (const t of kernelTests) expect(t.resolvedTaskDefinition.env).toContain('EBPF_TEST_HOST');
  });

  it('after a change to @ebpf/asm alone reruns only asm and what depends on it', () => {
    const probe = join(root, 'packages/asm/src/turbo-split-probe.txt');
    writeFileSync(probe, `${process.pid} ${Date.now()}\n`);
    let after: Map<string, DryTask>;
    try {
      after = dryRun();
    } finally {
      rmSync(probe, { force: true });
    }
    const rerun = [...after.values()].filter((t) => before.get(t.taskId)?.hash !== t.hash);
    const rerunIds = rerun.map((t) => t.taskId);

    expect(rerunIds).toContain('@ebpf/asm#test:unit');
    // A task that turbo does not cache reruns whatever its hash says.
    const uncached = [...after.values()].filter((t) => !t.resolvedTaskDefinition.cache);
    expect(uncached.map((t) => t.taskId)).toEqual([]);
    expect(rerunIds).not.toContain('@ebpf/sys#build');
    expect(rerunIds).not.toContain('@ebpf/sys#test:kernel');
    const users = dependentsOf('@ebpf/asm');
    expect(users.has('@ebpf/sys')).toBe(false);
    expect(new Set(rerun.map((t) => t.package))).toEqual(
      new Set([...users].filter((p) => after.has(`${p}#test`))),
    );
  });
});
