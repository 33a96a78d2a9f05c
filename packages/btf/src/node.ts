/**
 * `@ebpf/btf/node`: the running kernel's BTF, read from sysfs. Node-only, kept out of the main
 * entry so that it stays browser-safe.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { Btf } from './btf.ts';
import { BtfError } from './error.ts';

const SYSFS = '/sys/kernel/btf';
let vmlinux: Btf | undefined;

function read(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new BtfError(
      code === 'ENOENT'
        ? `${path} does not exist: ${what} (a kernel built with CONFIG_DEBUG_INFO_BTF${what.startsWith('module') ? '_MODULES' : ''} has it)`
        : `cannot read ${path}: ${code ?? String(e)}`,
      -1,
    );
  }
}

/** The running kernel's BTF (`/sys/kernel/btf/vmlinux`), parsed once per process. */
export function kernelBtf(): Btf {
  vmlinux ??= Btf.parse(read(`${SYSFS}/vmlinux`, 'the kernel has no BTF'));
  return vmlinux;
}

/** The BTF of loaded kernel module `name`, split on {@link kernelBtf}. */
export function moduleBtf(name: string): Btf {
  if (!/^[\w-]+$/.test(name) || name === 'vmlinux')
    throw new BtfError(`${JSON.stringify(name)} is not a module name`, -1);
  return Btf.parse(read(`${SYSFS}/${name}`, `module ${name} is not loaded or has no BTF`), {
    base: kernelBtf(),
  });
}
