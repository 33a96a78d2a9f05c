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
import { btfSection } from '@ebpf/object';
import {
  BtfArray,
  BtfDeclTag,
  BtfEnum,
  BtfEnum64,
  BtfFuncLinkage,
  BtfHeader,
  BtfKind,
  BtfMember,
  BtfParam,
  BtfType,
  BtfVar,
  BtfVarLinkage,
  BtfVarSecinfo,
} from '@ebpf/uapi';
import { downgradeType, kernelAcceptsBtf, type OptionalBtfKind } from './btf-kinds.ts';
import type { CollectionSpecLike } from './collection.ts';

const alignUp = (n: number, align: number): number => Math.ceil(n / align) * align;

/** The fixes of one object's BTF, with what they look up in the spec gathered once. */
class BtfFixes {
  #offsets: Map<string, Map<string, number>> | undefined;

  constructor(
    private readonly btf: Btf,
    private readonly spec: CollectionSpecLike,
  ) {}

  datasec(section: Datasec): NewType {
    const { btf } = this;
    const vars = section.vars.filter((v) => btf.typeById(v.type).kind === 'var');
    const map = this.spec.maps[section.name];
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
    const offsets = this.offsetsIn(section.name);
    const placed = vars
      .map((v) => ({ ...v, offset: offsets?.get(btf.typeById(v.type).name) ?? v.offset }))
      .sort((a, b) => a.offset - b.offset);
    return { kind: 'datasec', name: section.name, size: map.valueSize, vars: placed };
  }

  /**
   * A function's linkage as the kernel gets it: externs defined by now, hidden functions static.
   * Its name is looked up only for global functions of objects that have hidden ones.
   */
  funcLinkage(linkage: BtfFuncLinkage, id: number): BtfFuncLinkage {
    if (linkage === BtfFuncLinkage.Extern) return BtfFuncLinkage.Global;
    const hidden = this.spec.hiddenFunctions;
    if (linkage === BtfFuncLinkage.Global && hidden?.size && hidden.has(this.btf.typeById(id).name))
      return BtfFuncLinkage.Static;
    return linkage;
  }

  /** The offsets of the variables (and `.kconfig` externs) of section `name`, by variable name. */
  private offsetsIn(name: string): ReadonlyMap<string, number> | undefined {
    if (this.#offsets === undefined) {
      const all = new Map<string, Map<string, number>>();
      const add = (section: string, variable: string, offset: number): void => {
        const inSection = all.get(section) ?? new Map<string, number>();
        all.set(section, inSection.set(variable, offset));
      };
      for (const variable of Object.values(this.spec.variables ?? {}))
        add(variable.section, variable.name, variable.offset);
      for (const extern of Object.values(this.spec.externs ?? {}))
        if (extern.offset !== undefined) add('.kconfig', extern.name, extern.offset);
      this.#offsets = all;
    }
    return this.#offsets.get(name);
  }
}

function fixType(type: Exclude<Type, Void>, fixes: BtfFixes): NewType {
  switch (type.kind) {
    case 'datasec':
      return fixes.datasec(type);
    case 'var':
      return type.linkage === BtfVarLinkage.GlobalExtern
        ? { ...type, linkage: BtfVarLinkage.GlobalAllocated }
        : type;
    case 'func': {
      const linkage = fixes.funcLinkage(type.linkage, type.id);
      return linkage === type.linkage ? type : { ...type, linkage };
    }
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
    bytes = patchedBtfSection(btf, spec) ?? rebuiltBtf(btf, spec);
    marshalled.set(spec, bytes);
  }
  return bytes;
}

/** The slow path, for any BTF: every type decoded, fixed, downgraded and marshalled again. */
export function rebuiltBtf(btf: Btf, spec: CollectionSpecLike): Uint8Array {
  const fixes = new BtfFixes(btf, spec);
  return BtfBuilder.from(btf, (type) => downgradeType(fixType(type, fixes), kernelAcceptsBtf)).marshal();
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The kinds this file may have to downgrade, by number. */
const optionalKinds = new Map<number, OptionalBtfKind>([
  [BtfKind.DeclTag, 'decl_tag'],
  [BtfKind.TypeTag, 'type_tag'],
  [BtfKind.Enum64, 'enum64'],
  [BtfKind.Float, 'float'],
]);

/** Bytes of a type record of `kind` with `vlen` entries. */
function recordSize(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.Int:
      return BtfType.size + 4;
    case BtfKind.Array:
      return BtfType.size + BtfArray.size;
    case BtfKind.Struct:
    case BtfKind.Union:
      return BtfType.size + vlen * BtfMember.size;
    case BtfKind.Enum:
      return BtfType.size + vlen * BtfEnum.size;
    case BtfKind.Enum64:
      return BtfType.size + vlen * BtfEnum64.size;
    case BtfKind.FuncProto:
      return BtfType.size + vlen * BtfParam.size;
    case BtfKind.Var:
      return BtfType.size + BtfVar.size;
    case BtfKind.Datasec:
      return BtfType.size + vlen * BtfVarSecinfo.size;
    case BtfKind.DeclTag:
      return BtfType.size + BtfDeclTag.size;
    default:
      return BtfType.size;
  }
}

/**
 * The fast path: a copy of the object's own `.BTF` section with the same fixes written into
 * its records in place (sizes, offsets and linkages; nothing moves), so the types are neither
 * decoded nor marshalled again. Undefined when that cannot be done and the types must be
 * rebuilt: foreign byte order, a kind this kernel lacks, or a DATASEC that loses entries.
 */
export function patchedBtfSection(btf: Btf, spec: CollectionSpecLike): Uint8Array | undefined {
  const section = btf.base === undefined ? btfSection(btf) : undefined;
  if (section === undefined || btf.littleEndian !== HOST_LITTLE_ENDIAN) return undefined;
  // A copy (a Buffer's slice() would be a view of the caller's bytes).
  const out = new Uint8Array(section);
  const view = new DataView(out.buffer);
  const le = HOST_LITTLE_ENDIAN;
  const fixes = new BtfFixes(btf, spec);
  const hdrLen = view.getUint32(BtfHeader.fields.hdrLen.offset, le);
  let at = hdrLen + view.getUint32(BtfHeader.fields.typeOff.offset, le);
  const end = at + view.getUint32(BtfHeader.fields.typeLen.offset, le);
  for (let id = btf.firstId; at < end; id++) {
    const info = view.getUint32(at + BtfType.fields.info.offset, le);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const optional = optionalKinds.get(kind);
    if (optional !== undefined && !kernelAcceptsBtf(optional)) return undefined;
    if (kind === BtfKind.Func) {
      const linkage = fixes.funcLinkage(vlen as BtfFuncLinkage, id);
      if (linkage === BtfFuncLinkage.Global && !kernelAcceptsBtf('global_func')) return undefined;
      view.setUint32(at + BtfType.fields.info.offset, (info & ~0xffff) | linkage, le);
    } else if (kind === BtfKind.Var) {
      const linkageAt = at + BtfType.size + BtfVar.fields.linkage.offset;
      if (view.getUint32(linkageAt, le) === BtfVarLinkage.GlobalExtern)
        view.setUint32(linkageAt, BtfVarLinkage.GlobalAllocated, le);
    } else if (kind === BtfKind.Datasec) {
      const fixed = fixes.datasec(btf.typeById(id) as Datasec) as Datasec;
      if (fixed.vars.length !== vlen) return undefined;
      view.setUint32(at + BtfType.fields.size.offset, fixed.size, le);
      fixed.vars.forEach((v, i) => {
        const entry = at + BtfType.size + i * BtfVarSecinfo.size;
        view.setUint32(entry + BtfVarSecinfo.fields.type.offset, v.type, le);
        view.setUint32(entry + BtfVarSecinfo.fields.offset.offset, v.offset, le);
        view.setUint32(entry + BtfVarSecinfo.fields.size.offset, v.size, le);
      });
    }
    at += recordSize(kind, vlen);
  }
  return out;
}
