/** The README's example runs as written (printing what its comments say). */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireKernel } from '@ebpf/test-utils';
import { afterAll, expect, it, vi } from 'vitest';
import { packageRoot } from './native.ts';

const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
const file = join(packageRoot, 'src', 'test', `readme-example-${process.pid}.ts`);
afterAll(() => rmSync(file, { force: true }));

requireKernel('README', () => {
  it('runs the example', async () => {
    expect(example).toMatch(/mapLookup/);
    writeFileSync(file, example);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import(file);
      expect(log.mock.calls).toEqual([
        [7],
        ['EEXIST', 'BPF_MAP_UPDATE_ELEM', expect.stringMatching(/NOEXIST/)],
      ]);
    } finally {
      log.mockRestore();
    }
  });
});
