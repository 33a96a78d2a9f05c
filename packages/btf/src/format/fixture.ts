/**
 * Small hand-built BTF for the printers' tests: each call appends one type and returns its id,
 * `btf()` encodes the raw bytes and parses them. Test-only; it writes just what the tests use.
 */
import { BtfIntEncoding, BtfKind } from '@ebpf/uapi';
import { Btf } from '../btf.ts';
import type { TypeId } from '../types.ts';

/** `[name, type, bitOffset, bitfieldSize?]` */
export type FixtureMember = readonly [string, TypeId, number, number?];

export class BtfFixture {
  private readonly words: number[] = [];
  /** Split BTF's strings continue the base's; a base's start with the empty string. */
  private strings: string;
  private next: TypeId;
  private parsed: Btf | undefined;

  /** With `base`, the types are split BTF on it: ids and string offsets continue the base's. */
  constructor(private readonly base?: BtfFixture) {
    this.strings = base ? '' : '\0';
    this.next = base ? base.next : 1;
  }

  int(name: string, size: number, signed = true): TypeId {
    const encoding = signed ? BtfIntEncoding.Signed : 0;
    return this.add(name, BtfKind.Int, 0, false, size, [(encoding << 24) | (size * 8)]);
  }
  bool(name: string): TypeId {
    return this.add(name, BtfKind.Int, 0, false, 1, [(BtfIntEncoding.Bool << 24) | 8]);
  }
  ptr(target: TypeId): TypeId {
    return this.add('', BtfKind.Ptr, 0, false, target);
  }
  typedef(name: string, target: TypeId): TypeId {
    return this.add(name, BtfKind.Typedef, 0, false, target);
  }
  const(target: TypeId): TypeId {
    return this.add('', BtfKind.Const, 0, false, target);
  }
  volatile(target: TypeId): TypeId {
    return this.add('', BtfKind.Volatile, 0, false, target);
  }
  typeTag(name: string, target: TypeId): TypeId {
    return this.add(name, BtfKind.TypeTag, 0, false, target);
  }
  array(element: TypeId, count: number, index: TypeId = element): TypeId {
    return this.add('', BtfKind.Array, 0, false, 0, [element, index, count]);
  }
  struct(name: string, size: number, members: readonly FixtureMember[], union = false): TypeId {
    const body = members.flatMap(([n, type, bitOffset, bits = 0]) => [
      this.str(n),
      type,
      (bits << 24) | bitOffset,
    ]);
    return this.add(name, union ? BtfKind.Union : BtfKind.Struct, members.length, true, size, body);
  }
  union(name: string, size: number, members: readonly FixtureMember[]): TypeId {
    return this.struct(name, size, members, true);
  }
  enum(name: string, size: number, values: readonly (readonly [string, number])[], signed = false): TypeId {
    const body = values.flatMap(([n, v]) => [this.str(n), v]);
    return this.add(name, BtfKind.Enum, values.length, signed, size, body);
  }
  enum64(name: string, values: readonly (readonly [string, bigint])[], signed = false): TypeId {
    const body = values.flatMap(([n, v]) => {
      const raw = BigInt.asUintN(64, v);
      return [this.str(n), Number(raw & 0xffffffffn), Number(raw >> 32n)];
    });
    return this.add(name, BtfKind.Enum64, values.length, signed, 8, body);
  }
  fwd(name: string, union = false): TypeId {
    return this.add(name, BtfKind.Fwd, 0, union, 0);
  }
  /** A prototype; a parameter of type 0 last means `...`. */
  proto(returns: TypeId, params: readonly (readonly [string, TypeId])[]): TypeId {
    const body = params.flatMap(([n, type]) => [this.str(n), type]);
    return this.add('', BtfKind.FuncProto, params.length, false, returns, body);
  }
  func(name: string, proto: TypeId): TypeId {
    return this.add(name, BtfKind.Func, 1, false, proto);
  }
  float(name: string, size: number): TypeId {
    return this.add(name, BtfKind.Float, 0, false, size);
  }

  /** The types as raw BTF. */
  raw(): Uint8Array {
    const hdrLen = 24;
    const typeLen = this.words.length * 4;
    const out = new Uint8Array(hdrLen + typeLen + this.strings.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, true);
    v.setUint8(2, 1);
    v.setUint32(4, hdrLen, true);
    v.setUint32(12, typeLen, true);
    v.setUint32(16, typeLen, true);
    v.setUint32(20, this.strings.length, true);
    for (const [i, w] of this.words.entries()) v.setUint32(hdrLen + i * 4, w >>> 0, true);
    for (let i = 0; i < this.strings.length; i++) out[hdrLen + typeLen + i] = this.strings.charCodeAt(i);
    return out;
  }

  /** The types parsed (once: a split fixture's base must stay the same object). */
  btf(): Btf {
    this.parsed ??= Btf.parse(this.raw(), this.base ? { base: this.base.btf() } : {});
    return this.parsed;
  }

  private add(
    name: string,
    kind: number,
    vlen: number,
    kflag: boolean,
    sizeOrType: number,
    body: number[] = [],
  ) {
    this.words.push(this.str(name), ((kflag ? 1 << 31 : 0) | (kind << 24) | vlen) >>> 0, sizeOrType, ...body);
    return this.next++;
  }

  private str(s: string): number {
    if (s === '') return 0;
    const at = (this.base?.strings.length ?? 0) + this.strings.length;
    this.strings += `${s}\0`;
    return at;
  }
}
