/**
 * Small hand-built BTF for the printers' tests, on `BtfBuilder`: each call adds one type and
 * returns its id, `btf()` marshals and parses the result. Test-only.
 */
import { BtfFuncLinkage, BtfIntEncoding } from '@ebpf/uapi';
import { Btf } from '../btf.ts';
import { BtfBuilder, type NewType } from '../builder.ts';
import type { Member, TypeId } from '../types.ts';

/** `[name, type, bitOffset, bitfieldSize?]` */
export type FixtureMember = readonly [string, TypeId, number, number?];

const members = (list: readonly FixtureMember[]): Member[] =>
  list.map(([name, type, bitOffset, bitfieldSize = 0]) => ({ name, type, bitOffset, bitfieldSize }));

export class BtfFixture {
  private readonly builder: BtfBuilder;
  private parsed: Btf | undefined;

  /** With `base`, the types are split BTF on it (parsed first: add nothing to it afterwards). */
  constructor(private readonly base?: BtfFixture) {
    this.builder = new BtfBuilder(base ? { base: base.btf() } : {});
  }

  int(name: string, size: number, signed = true): TypeId {
    const encoding = signed ? BtfIntEncoding.Signed : 0;
    return this.add({ kind: 'int', name, size, encoding, bitOffset: 0, bits: size * 8 });
  }
  bool(name: string): TypeId {
    return this.add({ kind: 'int', name, size: 1, encoding: BtfIntEncoding.Bool, bitOffset: 0, bits: 8 });
  }
  float(name: string, size: number): TypeId {
    return this.add({ kind: 'float', name, size });
  }
  ptr(target: TypeId): TypeId {
    return this.add({ kind: 'ptr', name: '', target });
  }
  typedef(name: string, target: TypeId): TypeId {
    return this.add({ kind: 'typedef', name, target });
  }
  const(target: TypeId): TypeId {
    return this.add({ kind: 'const', name: '', target });
  }
  volatile(target: TypeId): TypeId {
    return this.add({ kind: 'volatile', name: '', target });
  }
  typeTag(name: string, target: TypeId): TypeId {
    return this.add({ kind: 'type_tag', name, target });
  }
  array(element: TypeId, count: number, index: TypeId = element): TypeId {
    return this.add({ kind: 'array', name: '', element, index, count });
  }
  struct(name: string, size: number, list: readonly FixtureMember[]): TypeId {
    return this.add({ kind: 'struct', name, size, members: members(list) });
  }
  union(name: string, size: number, list: readonly FixtureMember[]): TypeId {
    return this.add({ kind: 'union', name, size, members: members(list) });
  }
  enum(name: string, size: number, values: readonly (readonly [string, number])[], signed = false): TypeId {
    return this.add({
      kind: 'enum',
      name,
      size,
      signed,
      values: values.map(([n, value]) => ({ name: n, value })),
    });
  }
  enum64(name: string, values: readonly (readonly [string, bigint])[], signed = false): TypeId {
    const list = values.map(([n, value]) => ({ name: n, value }));
    return this.add({ kind: 'enum64', name, size: 8, signed, values: list });
  }
  fwd(name: string, union = false): TypeId {
    return this.add({ kind: 'fwd', name, union });
  }
  /** A prototype; a parameter of type 0 last means `...`. */
  proto(returns: TypeId, params: readonly (readonly [string, TypeId])[]): TypeId {
    return this.add({
      kind: 'func_proto',
      name: '',
      returns,
      params: params.map(([name, type]) => ({ name, type })),
    });
  }
  func(name: string, proto: TypeId): TypeId {
    return this.add({ kind: 'func', name, proto, linkage: BtfFuncLinkage.Global });
  }

  /** The types as raw BTF. */
  raw(): Uint8Array {
    return this.builder.marshal();
  }

  /** The types parsed (once: a split fixture's base must stay the same object). */
  btf(): Btf {
    this.parsed ??= Btf.parse(this.raw(), this.base ? { base: this.base.btf() } : {});
    return this.parsed;
  }

  private add(type: NewType): TypeId {
    return this.builder.add(type);
  }
}
