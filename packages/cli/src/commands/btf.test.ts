import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Btf } from '@ebpf/btf';
import { buildObject, requireTools, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../exit-codes.ts';
import { runMain } from '../testing.ts';

requireTools(['clang-16', 'llvm-objcopy-16', 'bpftool']);
const scratch = new Scratch();
afterAll(() => scratch.dispose());
const object = buildObject(scratch, 'maps-of-every-kind', 'bpfel');
const bigEndian = buildObject(scratch, 'maps-of-every-kind', 'bpfeb');
const bpftool = (...args: string[]) => execFileSync('bpftool', args, { encoding: 'utf8' });

describe('ebpf btf dump (clang-16 objects)', () => {
  it('prints an object’s types as C, as bpftool does', async () => {
    const r = await runMain('btf', 'dump', object);
    expect(r.code, r.err).toBe(ExitCode.Ok);
    expect(r.out).toBe(bpftool('btf', 'dump', 'file', object, 'format', 'c'));
  });

  it('reads raw BTF as well as ELF, of either byte order', async () => {
    const raw = scratch.path('raw.btf');
    execFileSync('llvm-objcopy-16', [`--dump-section=.BTF=${raw}`, bigEndian]);
    const fromElf = await runMain('btf', 'dump', bigEndian);
    const fromRaw = await runMain('btf', 'dump', raw);
    expect(fromRaw.code, fromRaw.err).toBe(ExitCode.Ok);
    expect(fromRaw.out).toBe(fromElf.out);
    expect(fromRaw.out).toContain('struct ');
  });

  it('with --type, dumps those types and what they need, as C or TypeScript', async () => {
    const c = await runMain('btf', 'dump', object, '--type', 'struct pair');
    expect(c.code, c.err).toBe(ExitCode.Ok);
    expect(c.out).toMatch(/^struct pair \{$/m);
    expect(c.out).not.toMatch(/^struct \{$/m); // the anonymous map definitions are left out
    // --type takes one name each time, so it may come before the source.
    const before = await runMain('btf', 'dump', '--type', 'struct pair', object);
    expect(before.code, before.err).toBe(ExitCode.Ok);
    expect(before.out).toBe(c.out);
    const ts = await runMain(
      'btf',
      'dump',
      object,
      '--format',
      'ts',
      '--type',
      'pair',
      '-o',
      scratch.path('v.ts'),
    );
    expect(ts.code, ts.err).toBe(ExitCode.Ok);
    expect(readFileSync(scratch.path('v.ts'), 'utf8')).toMatch(/^export interface pair \{$/m);
    expect(ts.err).toContain('v.ts: TypeScript types');
    const json = JSON.parse(
      (await runMain('btf', 'dump', object, '--format', 'ts', '--type', 'pair', '--json')).out,
    );
    expect(json.declarations).toContainEqual(
      expect.objectContaining({ name: 'pair', kind: 'struct', size: expect.any(Number) }),
    );
  });

  it('names what is missing: an unknown type, a file, an object without BTF (exit 3)', async () => {
    const unknown = await runMain('btf', 'dump', object, '--type', 'nosuch');
    expect(unknown).toMatchObject({ code: ExitCode.NotFound });
    expect(unknown.err).toContain(`has no type named 'nosuch'`);
    expect((await runMain('btf', 'dump', scratch.path('missing.o'))).code).toBe(ExitCode.NotFound);
    const stripped = scratch.path('stripped.o');
    execFileSync('llvm-objcopy-16', ['--remove-section=.BTF', '--remove-section=.BTF.ext', object, stripped]);
    const noBtf = await runMain('btf', 'dump', stripped, '--json');
    expect(noBtf.code).toBe(ExitCode.NotFound);
    expect(JSON.parse(noBtf.out).error.message).toContain('has no .BTF section: build it with clang -g');
  });

  it('says which file is not BTF (exit 1), and refuses an unknown format (exit 2)', async () => {
    const r = await runMain('btf', 'dump', new URL('../../package.json', import.meta.url).pathname);
    expect(r.code).toBe(ExitCode.Failure);
    expect(r.err).toMatch(/package\.json: .*bad magic/);
    expect((await runMain('btf', 'dump', object, '--format', 'go')).code).toBe(ExitCode.Usage);
  });
});

describe('ebpf btf show FILE', () => {
  it('counts the types by kind and sizes the strings', async () => {
    const r = await runMain('btf', 'show', object, '--json');
    expect(r.code, r.err).toBe(ExitCode.Ok);
    const summary = JSON.parse(r.out);
    const raw = scratch.path('show.btf');
    execFileSync('llvm-objcopy-16', [`--dump-section=.BTF=${raw}`, object]);
    const btf = Btf.parse(new Uint8Array(readFileSync(raw)));
    expect(summary).toMatchObject({ byteOrder: 'little', types: btf.count, firstId: 1 });
    expect(Object.values(summary.kinds as Record<string, number>).reduce((a, b) => a + b)).toBe(btf.count);
    expect(summary.kinds.struct).toBe([...btf.types()].filter((t) => t.kind === 'struct').length);
    // The header's str_len, as the format stores it.
    expect(summary.stringsSize).toBe(new DataView(btf.strings.bytes.buffer).getUint32(20, true));
    const text = await runMain('btf', 'show', object);
    expect(text.out).toMatch(/^types: +\d+$/m);
    expect(text.out).toMatch(/^ {2}struct: +\d+$/m);
  });
});
