/** The committed generated module is what `ebpf gen types` makes of the C today (CI fails on a stale one). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('src/generated/execsnoop.generated.ts is up to date with src/execsnoop.bpf.c (run pnpm gen)', () => {
  const root = new URL('..', import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), 'execsnoop-gen-'));
  try {
    const output = join(dir, 'execsnoop.generated.ts');
    const cli = join(root, 'node_modules/@ebpf/cli/src/bin.ts');
    const args = ['gen', 'types', 'src/execsnoop.bpf.c', '-o', 'src/generated/execsnoop.generated.ts'];
    // Same arguments as `pnpm gen` (they are in the header), output elsewhere.
    execFileSync(
      process.execPath,
      ['--conditions=@ebpf/source', '--import', 'tsx', cli, ...args.slice(0, -1), output],
      {
        cwd: root,
        stdio: 'pipe',
      },
    );
    const fresh = readFileSync(output, 'utf8').replace(output, 'src/generated/execsnoop.generated.ts');
    expect(fresh).toBe(readFileSync(join(root, 'src/generated/execsnoop.generated.ts'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
