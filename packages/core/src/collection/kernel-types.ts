/** The default CO-RE target: the running kernel's BTF, then every loaded module's (split on it). */
import { readdirSync } from 'node:fs';
import type { Btf } from '@ebpf/btf';
import { kernelBtf, moduleBtf } from '@ebpf/btf/node';

let targets: readonly Btf[] | undefined;

/** vmlinux first, then modules by name; read once per process (modules loaded later are not seen). */
export function kernelTypes(): readonly Btf[] {
  targets ??= [
    kernelBtf(),
    ...readdirSync('/sys/kernel/btf')
      .filter((name) => name !== 'vmlinux')
      .sort()
      .map((name) => moduleBtf(name)),
  ];
  return targets;
}
