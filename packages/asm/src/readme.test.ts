/**
 * The README's example runs as written: its TypeScript blocks, in order, are bundled with
 * `@ebpf/asm` pointing at this package's sources and run; what it logs is the "prints" block.
 */
import { readFileSync } from 'node:fs';
import { build, stop } from 'esbuild';
import { afterAll, expect, it } from 'vitest';

// esbuild keeps a service process (and its pipes) for later builds: end it with the file.
afterAll(() => stop());

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const example = readme.slice(
  readme.indexOf('## Example'),
  readme.indexOf('\n## ', readme.indexOf('## Example') + 1),
);
const blocks = [...example.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, code: m[2]! }));

it('the README example runs as written and prints what the README says', async () => {
  const code = blocks.filter((b) => b.lang === 'ts').map((b) => b.code);
  const printed = blocks.find((b) => b.lang === '')!.code;
  expect(code.length).toBeGreaterThanOrEqual(2);
  const logged: string[] = [];
  (globalThis as { __readmeLog?: string[] }).__readmeLog = logged;
  const capture =
    'const console = { log: (...a: unknown[]) => (globalThis as any).__readmeLog.push(a.join(" ")) };\n';
  const bundle = await build({
    stdin: {
      contents: capture + code.join('\n'),
      loader: 'ts',
      resolveDir: new URL('.', import.meta.url).pathname,
    },
    alias: { '@ebpf/asm': new URL('./index.ts', import.meta.url).pathname },
    conditions: ['@ebpf/source'],
    bundle: true,
    platform: 'neutral',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  const js = bundle.outputFiles[0]!.text;
  await import(`data:text/javascript;base64,${Buffer.from(js).toString('base64')}`);
  expect(logged.join('\n').trimEnd()).toBe(printed.trimEnd());
});
