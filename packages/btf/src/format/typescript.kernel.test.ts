/**
 * The TypeScript printer's layout facts on this machine's vmlinux, checked by clang-16: every
 * offset and size it reports becomes a `_Static_assert` over the C header toC() writes for the
 * same types, so the compiler's layout is the oracle.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTools } from '@ebpf/test-utils/clang';
import { describe, expect, it } from 'vitest';
import { kernelBtf } from '../node.ts';
import { toTypeScript } from './typescript.ts';

const CLANG = 'clang-16';
requireTools([CLANG]);

describe('toTypeScript on vmlinux', () => {
  const btf = kernelBtf();
  const roots = ['task_struct', 'sk_buff'].map((name) => btf.typeByName(name, 'struct')!);
  const out = toTypeScript(btf, roots);

  it('declares the records a task_struct and an sk_buff hold, each with the C layout clang computes', () => {
    const asserts: string[] = [];
    for (const d of out.declarations) {
      if (d.kind !== 'struct' && d.kind !== 'union') continue;
      const t = btf.typeById(d.typeId);
      // Names BTF repeats get ___2 suffixes in the C dump too, in another order: leave them out.
      if (t.name !== '' && btf.typesByName(t.name, t.kind).length > 1) continue;
      const c = t.name !== '' ? `${t.kind} ${t.name}` : d.name;
      asserts.push(`_Static_assert(sizeof(${c}) == ${d.size}, "${c}");`);
      for (const f of d.fields)
        if (f.bitSize === 0)
          asserts.push(
            `_Static_assert(__builtin_offsetof(${c}, ${f.name}) == ${f.offset}, "${c}.${f.name}");`,
          );
    }
    expect(out.declarations.map((d) => d.name)).toEqual(
      expect.arrayContaining(['task_struct', 'sk_buff', 'list_head']),
    );
    expect(asserts.length).toBeGreaterThan(500);

    const dir = mkdtempSync(join(tmpdir(), 'btf-ts-layout-'));
    try {
      writeFileSync(join(dir, 'vmlinux.h'), btf.toC({ types: out.declarations.map((d) => d.typeId) }));
      writeFileSync(join(dir, 'layout.c'), `#include "vmlinux.h"\n${asserts.join('\n')}\n`);
      const errors = (() => {
        try {
          execFileSync(CLANG, ['-target', 'bpf', '-fsyntax-only', join(dir, 'layout.c')], {
            encoding: 'utf8',
            stdio: 'pipe',
          });
          return '';
        } catch (e) {
          return String((e as { stderr?: string }).stderr ?? e).slice(0, 2000);
        }
      })();
      expect(errors).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('declares every named struct, union, enum and value typedef of vmlinux, each under its own name', () => {
    const all = [...btf].filter((t) => {
      if (t.kind === 'typedef') return !['func_proto', 'void', 'fwd'].includes(btf.resolve(t.id).kind);
      return t.name !== '' && ['struct', 'union', 'enum', 'enum64'].includes(t.kind);
    });
    const { declarations } = toTypeScript(btf, all, { comments: false });
    const names = declarations.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    expect(declarations.length).toBeGreaterThan(5_000);
  });

  it('gives task_struct.comm as a string and its pointers as bigint', () => {
    const task = out.declarations.find((d) => d.name === 'task_struct');
    expect(task?.code).toMatch(/\n {2}comm: string;\n/);
    expect(task?.code).toMatch(/\n {2}parent: bigint;\n/);
  });
});
