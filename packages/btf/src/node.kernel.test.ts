import { describe, expect, it } from 'vitest';
import { BtfError } from './index.ts';
import { kernelBtf, moduleBtf } from './node.ts';

describe('@ebpf/btf/node', () => {
  it('parses vmlinux once per process', () => {
    const btf = kernelBtf();
    expect(kernelBtf()).toBe(btf);
    expect(btf.typeByName('task_struct', 'struct')?.kind).toBe('struct');
  });

  it('names what is missing for a module that is not loaded, and rejects paths', () => {
    expect(() => moduleBtf('no_such_module')).toThrow(/module no_such_module is not loaded or has no BTF/);
    expect(() => moduleBtf('../vmlinux')).toThrow(BtfError);
  });
});
