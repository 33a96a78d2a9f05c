import { readdirSync } from 'node:fs';
import { kernelBtf } from '@ebpf/btf/node';
import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { moduleTypes } from './kernel-types.ts';

requireKernel('module BTF as CO-RE targets (kernel)', () => {
  it('is every module with BTF, split on vmlinux, read once', () => {
    const modules = moduleTypes();
    expect(modules).toHaveLength(readdirSync('/sys/kernel/btf').length - 1);
    for (const module of modules) expect(module.base).toBe(kernelBtf());
    expect(moduleTypes()).toBe(modules);
  });
});
