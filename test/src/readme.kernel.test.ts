/**
 * The complete example of @ebpf/core's README, run exactly as written: create a map, load a
 * program built with @ebpf/asm, attach it to XDP on `lo`, send traffic, read the counts. It runs
 * in a child process inside a fresh network namespace, so its `lo` is its own.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { NetworkNamespace, requireKernel } from '@ebpf/test-utils';
import { afterAll, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(fileURLToPath(new URL('../../packages/core/README.md', import.meta.url)), 'utf8');
/** Inside test/ so that the example's imports resolve like an app's would. */
const scratch = `${root}node_modules/.cache/readme-${process.pid}`;
/** Where the example runs: an `lo` of its own. */
let namespace: NetworkNamespace | undefined;

/** The ```ts blocks of the README, in order. */
function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

requireKernel('the @ebpf/core README example', () => {
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
    namespace?.remove();
  });

  it('counts the packets and bytes it sends to lo', () => {
    const example = codeBlocks(readme).find((block) => block.includes('attachXdp(program'));
    expect(example, 'the README has a complete XDP example').toBeDefined();
    mkdirSync(scratch, { recursive: true });
    const file = `${scratch}/example.mts`; // an ES module, as in a "type": "module" app
    writeFileSync(file, example!);
    namespace = new NetworkNamespace(`e2e-readme-${process.pid}`);
    const [ip, ...args] = namespace.argv(
      process.execPath,
      '--conditions=@ebpf/source',
      '--import',
      'tsx',
      file,
    );
    const output = execFileSync(ip!, args, { cwd: root, encoding: 'utf8' });
    const match = /^(\d+) packets, (\d+) bytes$/m.exec(output);
    expect(match, output).not.toBeNull();
    const packets = Number(match![1]);
    const bytes = Number(match![2]);
    // 10 datagrams (plus the ICMP "port unreachable" answers, which also cross lo).
    expect(packets).toBeGreaterThanOrEqual(10);
    expect(bytes).toBeGreaterThanOrEqual(10 * (14 + 20 + 8 + 'hello 0'.length));
  });
});
