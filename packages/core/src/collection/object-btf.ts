/**
 * The object's BTF as the kernel takes it. clang leaves DATASEC sizes and variable offsets 0
 * (the static linker's job); like libbpf, the loader fills them: from the section's map and the
 * variables' (and `.kconfig` externs') offsets, or for sections without a map (`.maps`) by
 * laying the variables out one after another, aligned, as clang places them. Externs, which
 * the kernel's BTF checker refuses, become what libbpf makes of them: allocated variables, and
 * extern-only sections (`.ksyms`) a placeholder the kernel accepts. Kinds the running kernel
 * lacks are downgraded (btf-kinds.ts).
 */
import { type Btf, BtfBuilder, type Datasec, type NewType, type Type, type Void } from '@ebpf/btf';
import { BtfFuncLinkage, BtfVarLinkage } from '@ebpf/uapi';
import { downgradeType, kernelAcceptsBtf } from './btf-kinds.ts';
import type { CollectionSpecLike } from './collection.ts';

const alignUp = (n: number, align: number): number => Math.ceil(n / align) * align;

function fixDatasec(section: Datasec, btf: Btf, spec: CollectionSpecLike): NewType {
  const vars = section.vars.filter((v) => btf.typeById(v.type).kind === 'var');
  const map = spec.maps[section.name];
  if (map === undefined) {
    // A section of externs only (.ksyms): the kernel wants a size, and no functions in it.
    if (vars.length === 0) return { kind: 'datasec', name: section.name, size: 1, vars: [] };
    let end = 0;
    const laid = vars.map((v) => {
      const type = (btf.typeById(v.type) as { type: number }).type;
      const offset = alignUp(end, Math.min(8, btf.alignof(type)));
      end = offset + v.size;
      return { ...v, offset };
    });
    return { kind: 'datasec', name: section.name, size: Math.max(section.size, end), vars: laid };
  }
  const offsets = new Map<string, number>();
  for (const variable of Object.values(spec.variables ?? {}))
    if (variable.section === section.name) offsets.set(variable.name, variable.offset);
  for (const extern of Object.values(spec.externs ?? {}))
    if (extern.offset !== undefined && section.name === '.kconfig') offsets.set(extern.name, extern.offset);
  const placed = vars
    .map((v) => ({ ...v, offset: offsets.get(btf.typeById(v.type).name) ?? v.offset }))
    .sort((a, b) => a.offset - b.offset);
  return { kind: 'datasec', name: section.name, size: map.valueSize, vars: placed };
}

function fixType(type: Exclude<Type, Void>, btf: Btf, spec: CollectionSpecLike): NewType {
  switch (type.kind) {
    case 'datasec':
      return fixDatasec(type, btf, spec);
    case 'var':
      return type.linkage === BtfVarLinkage.GlobalExtern
        ? { ...type, linkage: BtfVarLinkage.GlobalAllocated }
        : type;
    case 'func':
      return type.linkage === BtfFuncLinkage.Extern ? { ...type, linkage: BtfFuncLinkage.Global } : type;
    default:
      return type;
  }
}

/** Specs are immutable once parsed, and a spec is often loaded many times (one per interface, say). */
const marshalled = new WeakMap<CollectionSpecLike, Uint8Array>();

/** Raw BTF of the object, completed and made acceptable as above (and to this kernel's BTF checker), for `BtfHandle.load`. */
export function objectBtfBytes(btf: Btf, spec: CollectionSpecLike): Uint8Array {
  let bytes = marshalled.get(spec);
  if (bytes === undefined) {
    bytes = BtfBuilder.from(btf, (type) =>
      downgradeType(fixType(type, btf, spec), kernelAcceptsBtf),
    ).marshal();
    marshalled.set(spec, bytes);
  }
  return bytes;
}
