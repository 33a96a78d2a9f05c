import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Btf } from './index.ts';

const VMLINUX = '/sys/kernel/btf/vmlinux';

describe('vmlinux of this machine', () => {
  const btf = Btf.parse(readFileSync(VMLINUX));

  it('has the base types every kernel has, by name and kind', () => {
    expect(btf.count).toBeGreaterThan(10_000);
    expect(btf.typeByName('int', 'int')).toMatchObject({ size: 4, bits: 32, encoding: 1 });
    expect(btf.typeByName('long unsigned int', 'int')).toMatchObject({ size: 8, encoding: 0 });
    expect(btf.typesByName('task_struct').map((t) => t.kind)).toContain('struct');
  });

  it('finds struct task_struct by name and lays out its members as the kernel does', () => {
    const task = btf.typeByName('task_struct', 'struct');
    expect(task?.kind).toBe('struct');
    if (task?.kind !== 'struct') return;
    expect(btf.sizeof(task.id)).toBe(task.size);
    expect(btf.alignof(task.id)).toBeGreaterThanOrEqual(8);
    const pid = task.members.find((m) => m.name === 'pid')!;
    expect(btf.nameOf(pid.type)).toBe('pid_t');
    expect(btf.resolve(pid.type)).toMatchObject({ kind: 'int', name: 'int', size: 4 });
    expect(pid.bitOffset % 8).toBe(0);
    const tasks = task.members.find((m) => m.name === 'tasks')!;
    expect(btf.nameOf(tasks.type)).toBe('struct list_head');
    expect(btf.sizeof(tasks.type)).toBe(16);
  });

  it('decodes every type without error', () => {
    let n = 0;
    for (const t of btf) if (t.id === ++n) continue;
    expect(n).toBe(btf.count);
  });
});
