import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs a fixture script (TypeScript, resolved to package sources) in a child Node process; returns its last line of output. */
export function runFixture(name: string, ...args: string[]): string {
  const script = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  const out = execFileSync(
    process.execPath,
    ['--conditions=@ebpf/source', '--import', 'tsx', script, ...args],
    {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      encoding: 'utf8',
    },
  );
  return out.trim().split('\n').pop() ?? '';
}
