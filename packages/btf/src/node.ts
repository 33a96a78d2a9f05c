/**
 * `@ebpf/btf/node`: the running kernel's BTF, read from sysfs. Node-only, kept out of the main
 * entry so that it stays browser-safe.
 *
 * @module
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Btf } from './btf.ts';
import { BtfError } from './error.ts';

const SYSFS = '/sys/kernel/btf';
let vmlinux: Btf | undefined;

function read(path: string, what: string): Uint8Array {
  try {
    return readSized(path);
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

/**
 * The whole file, into one buffer of the size sysfs reports. sysfs returns at most a page per
 * read, so this is a tight loop of reads, cheaper than `readFileSync`'s general one. A plain
 * `Uint8Array`, not a `Buffer`: the string table's `indexOf` and `subarray` are then the typed
 * array's builtins, not Buffer's JavaScript overrides, which cost a cold first lookup more.
 */
function readSized(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const bytes = new Uint8Array(fstatSync(fd).size);
    let at = 0;
    for (let n = 1; at < bytes.length && n > 0; at += n) n = readSync(fd, bytes, at, bytes.length - at, null);
    return bytes.subarray(0, at);
  } finally {
    closeSync(fd);
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
