/**
 * Which optional BTF kinds the running kernel accepts, each probed once (by loading a tiny BTF
 * that uses it), and how an object's types are rewritten when it lacks one, as libbpf does:
 * the replacement has the same size (so layouts and ids stay), only less detail.
 */
import { BtfBuilder, type NewType } from '@ebpf/btf';
import { BtfFuncLinkage, BtfIntEncoding } from '@ebpf/uapi';
import { BtfHandle } from '../btf/handle.ts';
import { featureTest } from '../internal/feature.ts';

/** The kinds (and forms) added after BTF itself that objects commonly carry. */
export type OptionalBtfKind = 'decl_tag' | 'type_tag' | 'enum64' | 'float' | 'global_func';

/** `int`, id 1 of every probe. */
export const intType: NewType = {
  kind: 'int',
  name: 'int',
  size: 4,
  encoding: BtfIntEncoding.Signed,
  bitOffset: 0,
  bits: 32,
};

/** Types using each kind, after `int` (id 1); a decl tag needs a typedef (or struct, var, func) to tag. */
const probes: Record<OptionalBtfKind, readonly NewType[]> = {
  decl_tag: [
    { kind: 'typedef', name: 't', target: 1 },
    { kind: 'decl_tag', name: 'tag', target: 2, componentIndex: -1, attribute: false },
  ],
  type_tag: [{ kind: 'type_tag', name: 'tag', target: 1, attribute: false }],
  enum64: [{ kind: 'enum64', name: 'e', size: 8, signed: false, values: [{ name: 'v', value: 1n }] }],
  float: [{ kind: 'float', name: 'float', size: 4 }],
  global_func: [
    { kind: 'func_proto', name: '', returns: 1, params: [] },
    { kind: 'func', name: 'f', proto: 2, linkage: BtfFuncLinkage.Global },
  ],
};

/** Whether the running kernel's BTF checker accepts `kind` (cached per process). */
export function kernelAcceptsBtf(kind: OptionalBtfKind): boolean {
  const result = featureTest(`btf-kind:${kind}`, () => {
    const builder = new BtfBuilder();
    builder.add(intType);
    for (const type of probes[kind]) builder.add(type);
    try {
      BtfHandle.load(builder.marshal()).close();
      return { status: 'supported' as const };
    } catch (error) {
      return { status: 'unsupported' as const, reason: (error as Error).message };
    }
  });
  return result.status !== 'unsupported';
}

/** `type` in a form `accepts` allows: the same size, with what the kernel cannot check left out. */
export function downgradeType(type: NewType, accepts: (kind: OptionalBtfKind) => boolean): NewType {
  switch (type.kind) {
    case 'decl_tag':
      // A one-byte int nothing refers to.
      return accepts('decl_tag')
        ? type
        : { kind: 'int', name: '', size: 1, encoding: 0, bitOffset: 0, bits: 8 };
    case 'type_tag':
      return accepts('type_tag') ? type : { kind: 'const', name: '', target: type.target };
    case 'enum64':
      return accepts('enum64') ? type : { kind: 'union', name: type.name, size: type.size, members: [] };
    case 'float':
      return accepts('float') ? type : { kind: 'struct', name: type.name, size: type.size, members: [] };
    case 'func':
      return type.linkage !== BtfFuncLinkage.Global || accepts('global_func')
        ? type
        : { ...type, linkage: BtfFuncLinkage.Static };
    default:
      return type;
  }
}
