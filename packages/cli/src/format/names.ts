import { cNameOf } from '@ebpf/uapi';

/** A generated enum's value as the kernel's lower-case name: `BPF_MAP_TYPE_PERCPU_HASH` → `percpu_hash`. */
export function enumName(table: object, value: number, prefix: string): string {
  const c = cNameOf(table as never, value as never) as string | undefined;
  return c?.startsWith(prefix) ? c.slice(prefix.length).toLowerCase() : `unknown(${value})`;
}
