import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Collection } from '@ebpf/core';
import { requireKernel } from '@ebpf/test-utils';
import { buildObject, Scratch } from '@ebpf/test-utils/clang';
import { afterAll, expect, it } from 'vitest';
import { ExitCode } from '../exit-codes.ts';
import { runMain } from '../testing.ts';

const bpftool = (...args: string[]) =>
  execFileSync('bpftool', args, { encoding: 'utf8', maxBuffer: 1 << 28 });

requireKernel('ebpf btf and gen vmlinux on the kernel’s BTF', () => {
  const scratch = new Scratch();
  afterAll(() => scratch.dispose());

  it('gen vmlinux writes the vmlinux.h bpftool writes, and btf dump prints it', async () => {
    const header = scratch.path('vmlinux.h');
    const r = await runMain('gen', 'vmlinux', '-o', header);
    expect(r.code, r.err).toBe(ExitCode.Ok);
    const expected = bpftool('btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c');
    expect(readFileSync(header, 'utf8')).toBe(expected);
    expect((await runMain('btf', 'dump')).out).toBe(expected);
  }, 120_000);

  it('a whole TypeScript dump of vmlinux typechecks under strict tsc', async () => {
    const file = scratch.path('vmlinux.ts');
    const r = await runMain('btf', 'dump', '--format', 'ts', '-o', file);
    expect(r.code, r.err).toBe(ExitCode.Ok);
    const tsc = new URL('../../../../node_modules/.bin/tsc', import.meta.url).pathname;
    execFileSync(tsc, [
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      '--target',
      'es2022',
      '--module',
      'esnext',
      file,
    ]);
  }, 120_000);

  it('a partial dump of vmlinux has the type and compiles alone for -target bpf', async () => {
    const r = await runMain('btf', 'dump', '--type', 'struct task_struct', '-o', scratch.path('task.h'));
    expect(r.code, r.err).toBe(ExitCode.Ok);
    execFileSync('clang-16', ['-target', 'bpf', '-fsyntax-only', '-x', 'c', '-'], {
      input: `#include "${scratch.path('task.h')}"\nint size = sizeof(struct task_struct);\n`,
    });
  }, 60_000);

  it('btf show lists kernel BTF and an object’s, with the maps using it; dump by id is bpftool’s', async () => {
    using coll = Collection.load(buildObject(scratch, 'maps-of-every-kind', 'bpfel'));
    const { btfId, id: mapId } = Object.values(coll.maps)[0]!.info();
    const list = await runMain('btf', 'show', '--json');
    expect(list.code, list.err).toBe(ExitCode.Ok);
    const objects = JSON.parse(list.out) as { id: number; name: string; kernel: boolean; mapIds: number[] }[];
    expect(objects).toContainEqual(expect.objectContaining({ id: 1, name: 'vmlinux', kernel: true }));
    expect(objects.find((o) => o.id === btfId)?.mapIds).toContain(mapId);
    const one = await runMain('btf', 'show', String(btfId));
    expect(one.out).toMatch(new RegExp(`^\\s*${btfId}\\s+-\\s+.*\\bno\\b.*\\b${mapId}\\b`, 'm'));
    const byId = await runMain('btf', 'dump', String(btfId));
    expect(byId.code, byId.err).toBe(ExitCode.Ok);
    expect(byId.out).toBe(bpftool('btf', 'dump', 'id', String(btfId), 'format', 'c'));
  });

  // One case per module BTF the machine has (none on a kernel without modules; the split dump
  // itself is compared with bpftool in @ebpf/btf on split BTF built over vmlinux).
  const modules = readdirSync('/sys/kernel/btf').filter((name) => name !== 'vmlinux');
  it.each(modules)('dumps the split BTF of module %s by id on top of vmlinux', async (module) => {
    const objects = JSON.parse((await runMain('btf', 'show', '--json')).out) as {
      id: number;
      name: string;
    }[];
    const id = String(objects.find((o) => o.name === module)!.id);
    expect((await runMain('btf', 'dump', id)).out).toBe(bpftool('btf', 'dump', 'id', id, 'format', 'c'));
  });

  it('an id no BTF object has is not found (exit 3)', async () => {
    const r = await runMain('btf', 'show', '4000000000', '--json');
    expect(r.code).toBe(ExitCode.NotFound);
    expect(JSON.parse(r.out).error.message).toContain('no BTF object with id 4000000000');
  });
});
