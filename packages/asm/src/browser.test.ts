/**
 * `@ebpf/asm` runs in a browser: esbuild bundles it (with `@ebpf/uapi`) for `platform: 'browser'`,
 * which fails on any Node built-in import, and the bundle then runs in a bare V8 context that has
 * no `process`, `Buffer`, `require` or `global`, assembling, encoding and disassembling a program.
 */
import { runInNewContext } from 'node:vm';
import { build, stop } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

// esbuild keeps a service process (and its pipes) for later builds: end it with the file.
afterAll(() => stop());

async function browserBundle(): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    entryPoints: [new URL('./index.ts', import.meta.url).pathname],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'ebpfAsm',
    conditions: ['@ebpf/source'],
    absWorkingDir: new URL('../..', import.meta.url).pathname,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

describe('in a browser', () => {
  it('bundles for platform=browser from @ebpf/asm and @ebpf/uapi sources only', async () => {
    const { code, inputs } = await browserBundle();
    expect(inputs.filter((f) => !/^(asm|uapi)\/src\//.test(f))).toEqual([]);
    expect(code).not.toMatch(/\brequire\(|node:/);
  });

  it('assembles, encodes and disassembles in a context without Node globals', async () => {
    const { code } = await browserBundle();
    const sandbox: Record<string, unknown> = {};
    runInNewContext(
      `${code}
      const bytes = ebpfAsm.assemble('r0 = 1\\nif r0 == 0 goto +1\\nr0 = *(u32 *)(r1 + 4)\\nexit');
      const text = ebpfAsm.disassemble(bytes);
      const again = ebpfAsm.encode(ebpfAsm.decode(ebpfAsm.assemble(text)), { byteOrder: 'big' });
      globalThis.result = { bytes: Array.from(bytes), text, big: Array.from(again), tag: ebpfAsm.programTag(bytes),
                 globals: [typeof process, typeof Buffer, typeof require, typeof global] };`,
      sandbox,
    );
    const result = sandbox.result as {
      bytes: number[];
      text: string;
      big: number[];
      tag: string;
      globals: string[];
    };
    expect(result.globals).toEqual(['undefined', 'undefined', 'undefined', 'undefined']);
    expect(result.bytes).toHaveLength(32);
    expect(result.text).toBe('r0 = 0x1\nif r0 == 0x0 goto +0x1\nr0 = *(u32 *)(r1 + 0x4)\nexit\n');
    expect(result.big.slice(0, 8)).toEqual([0xb7, 0x00, 0, 0, 0, 0, 0, 1]);
    expect(result.tag).toMatch(/^[0-9a-f]{16}$/);
  });
});
