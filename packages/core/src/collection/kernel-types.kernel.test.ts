import { readdirSync } from 'node:fs';
import { kernelBtf } from '@ebpf/btf/node';
import { requireKernel } from '@ebpf/test-utils';
import { expect, it } from 'vitest';
import { kernelTypes } from './kernel-types.ts';

requireKernel('default CO-RE targets (kernel)', () => {
  it('are vmlinux, then every module with BTF, read once', () => {
    const targets = kernelTypes();
    expect(targets[0]).toBe(kernelBtf());
    expect(targets).toHaveLength(readdirSync('/sys/kernel/btf').length);
    for (const module of targets.slice(1)) expect(module.base).toBe(kernelBtf());
    expect(kernelTypes()).toBe(targets);
  });
});
