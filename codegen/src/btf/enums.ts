/**
 * The kernel's enums as the generator reads them: `enum` and `enum64` alike, values as bigints
 * (signed when BTF says so), from `@ebpf/btf`.
 */
import type { Btf, Enum, Enum64, Type } from '@ebpf/btf';

export interface KernelEnum {
  readonly name: string;
  readonly values: readonly { readonly name: string; readonly value: bigint }[];
}

const isEnum = (t: Type): t is Enum | Enum64 => t.kind === 'enum' || t.kind === 'enum64';

function view(t: Enum | Enum64): KernelEnum {
  return { name: t.name, values: t.values.map((v) => ({ name: v.name, value: BigInt(v.value) })) };
}

/** Every enum of `btf`, in id order. */
export function* kernelEnums(btf: Btf): Generator<KernelEnum> {
  for (const t of btf) if (isEnum(t)) yield view(t);
}

/** The first enum called `tag`, or undefined. */
export function enumNamed(btf: Btf, tag: string): KernelEnum | undefined {
  const t = btf.typesByName(tag).find(isEnum);
  return t && view(t);
}

/** The first anonymous enum with an enumerator called `member`, or undefined. */
export function anonymousEnumWith(btf: Btf, member: string): KernelEnum | undefined {
  for (const e of kernelEnums(btf)) if (!e.name && e.values.some((v) => v.name === member)) return e;
  return undefined;
}
