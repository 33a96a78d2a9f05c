/**
 * The default CO-RE target: the running kernel's BTF, and the loaded modules' (split on it),
 * read only when a relocation finds no candidate in vmlinux: most objects never need them.
 */
import { readdirSync } from 'node:fs';
import type { Btf } from '@ebpf/btf';
import { moduleBtf } from '@ebpf/btf/node';

let modules: readonly Btf[] | undefined;

/** Every loaded module's BTF by module name, read once per process (modules loaded later are not seen). */
export function moduleTypes(): readonly Btf[] {
  modules ??= readdirSync('/sys/kernel/btf')
    .filter((name) => name !== 'vmlinux')
    .sort()
    .map((name) => moduleBtf(name));
  return modules;
}
