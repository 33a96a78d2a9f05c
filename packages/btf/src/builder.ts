/**
 * Writing raw BTF: types are encoded as they are added (ids in order, names interned once), and
 * `marshal` lays out header, type section and string section. Built from a parsed `Btf`, the
 * builder keeps that BTF's string section as it is, so the string offsets other data holds (an
 * object's `.BTF.ext` line info) stay valid and unchanged input marshals to the same bytes.
 */
import {
  BtfArray,
  BtfDeclTag,
  BtfEnum,
  BtfEnum64,
  BtfFormat,
  BtfHeader,
  BtfMember,
  BtfParam,
  BtfType,
  BtfVar,
  BtfVarSecinfo,
  type StructLayout,
} from '@ebpf/uapi';
import type { Btf } from './btf.ts';
import { BtfError } from './error.ts';
import { KIND_NUMBER } from './kinds.ts';
import type { StringTable } from './string-table.ts';
import { encodeName } from './strings.ts';
import type { Type, TypeId, Void } from './types.ts';

/**
 * A type to add: any kind but `void`, with or without an `id` (the builder assigns ids); a tag's
 * `attribute` may be left out (false).
 */
export type NewType =
  Exclude<Type, Void> extends infer T
    ? T extends Type
      ? Omit<T, 'id' | 'attribute'> & Partial<Pick<T, Extract<keyof T, 'attribute'>>>
      : never
    : never;

/** Options of the {@link BtfBuilder} constructor. */
export interface BuilderOptions {
  /** The BTF to split from (vmlinux for a module): ids and string offsets continue its. */
  readonly base?: Btf;
}

/** Options of {@link BtfBuilder.marshal}. */
export interface MarshalOptions {
  /** Byte order of the output; little-endian by default. */
  readonly littleEndian?: boolean;
}

const MAX_VLEN = 0xffff;
const MAX_BITFIELD_OFFSET = 0xffffff;
const MAX_BITFIELD_SIZE = 0xff;
const WORD = 4;

/** A type section under construction: u32 words, and where type ids were written. */
class Words {
  data: Uint32Array = new Uint32Array(1024);
  length = 0;
  /** Word indices of the type ids written, checked against the last id at marshal time. */
  refs: Uint32Array = new Uint32Array(256);
  refCount = 0;

  /** Appends one `layout` record: `values` by field name, `refs` naming the fields that hold type ids. */
  put<L extends StructLayout>(
    layout: L,
    values: { readonly [K in keyof L['fields']]?: number },
    ...refs: (keyof L['fields'] & string)[]
  ): void {
    const words = layout.size / WORD;
    if (this.length + words > this.data.length) this.data = grow(this.data, this.length + words);
    for (const [field, value] of Object.entries(values))
      this.data[this.length + layout.fields[field]!.offset / WORD] = value as number;
    for (const field of refs) {
      if (this.refCount === this.refs.length) this.refs = grow(this.refs, this.refCount + 1);
      this.refs[this.refCount++] = this.length + layout.fields[field]!.offset / WORD;
    }
    this.length += words;
  }

  /** Appends one word that no layout names (an int's encoding). */
  push(word: number): void {
    if (this.length === this.data.length) this.data = grow(this.data, this.length + 1);
    this.data[this.length++] = word;
  }
}

function grow(a: Uint32Array, needed: number): Uint32Array {
  let size = a.length * 2;
  while (size < needed) size *= 2;
  const b = new Uint32Array(size);
  b.set(a);
  return b;
}

/** A string section under construction: the base's and a seed's strings are found, not copied. */
class Strings {
  private readonly added = new Map<string, number>();
  private readonly chunks: Uint8Array[] = [];
  private end: number;

  constructor(
    private readonly base: StringTable | undefined,
    private readonly seed: StringTable | undefined,
  ) {
    this.end = seed ? seed.end : (base?.end ?? 0);
    // A string section that starts BTF (not a split one) starts with the empty string.
    if (!base && !seed) this.append(new Uint8Array(1));
  }

  offsetOf(s: string, owner: TypeId): number {
    if (s === '') return 0;
    const known = this.added.get(s);
    if (known !== undefined) return known;
    const bytes = encodeName(s);
    if (!bytes || bytes.includes(0))
      throw new BtfError(
        `type ${owner}: name ${JSON.stringify(s)} cannot be a BTF string (NUL or lone surrogate)`,
        -1,
      );
    let off = this.base?.find(bytes) ?? -1;
    if (off < 0) off = this.seed?.find(bytes) ?? -1;
    if (off < 0) {
      off = this.end;
      const z = new Uint8Array(bytes.length + 1);
      z.set(bytes);
      this.append(z);
    }
    this.added.set(s, off);
    return off;
  }

  /** This table's bytes (not the base's). */
  bytes(): Uint8Array {
    const first = this.base?.end ?? 0;
    const out = new Uint8Array(this.end - first);
    let at = 0;
    if (this.seed) {
      out.set(this.seed.bytes);
      at = this.seed.bytes.length;
    }
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  private append(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.end += bytes.length;
  }
}

/**
 * Writes BTF: add types (which refer to each other by id), then `marshal()` to raw bytes. A type
 * BTF cannot hold is a `BtfError` naming it.
 *
 * @example
 * ```ts
 * import { BtfBuilder, Int, Ptr } from '@ebpf/btf';
 *
 * const builder = new BtfBuilder();
 * const u32 = builder.add(new Int(0, 'unsigned int', 4, 0, 0, 32));
 * builder.add(new Ptr(0, '', u32)); // ids tie types together
 * const bytes = builder.marshal(); // raw BTF, ready for BPF_BTF_LOAD
 * ```
 */
export class BtfBuilder {
  /** The id the next `add` returns. */
  nextId: TypeId;
  private readonly words = new Words();
  private strings: Strings;

  constructor(options: BuilderOptions = {}) {
    this.nextId = options.base ? options.base.nextId : 1;
    this.strings = new Strings(options.base?.strings, undefined);
  }

  /**
   * A builder holding every type of `btf` with its ids, on the same base, and its string section
   * unchanged: marshalling it gives `btf`'s bytes back (with a 24-byte header). `edit` may
   * replace a type on the way (a loader fixing an object's DATASEC sizes), keeping its id.
   */
  static from(btf: Btf, edit?: (type: Exclude<Type, Void>) => NewType): BtfBuilder {
    const b = new BtfBuilder(btf.base ? { base: btf.base } : {});
    b.strings = new Strings(btf.base?.strings, btf.strings);
    for (const t of btf) if (t.kind !== 'void') b.add(edit === undefined ? t : edit(t));
    return b;
  }

  /** Adds `type` (which refers to others by id, earlier or later ones) and returns its id. */
  add(type: NewType): TypeId {
    const id = this.nextId;
    const w = this.words;
    const name = (s: string): number => this.strings.offsetOf(s, id);
    const info = (vlen: number, kflag = false): number => {
      if (vlen > MAX_VLEN)
        throw new BtfError(`type ${id} (${type.kind}) has ${vlen} entries, more than ${MAX_VLEN}`, -1);
      return ((kflag ? 1 << 31 : 0) | (KIND_NUMBER[type.kind] << 24) | vlen) >>> 0;
    };
    const sized = (vlen: number, kflag: boolean, size: number): void =>
      w.put(BtfType, { nameOff: name(type.name), info: info(vlen, kflag), size: u32(size, id) });
    const pointing = (vlen: number, target: TypeId, kflag = false): void =>
      w.put(BtfType, { nameOff: name(type.name), info: info(vlen, kflag), type: target }, 'type');
    switch (type.kind) {
      case 'int':
        sized(0, false, type.size);
        if (type.encoding > 0xf || type.bitOffset > 0xff || type.bits > 0xff)
          throw new BtfError(`type ${id} (int): encoding, bit offset or bits out of range`, -1);
        w.push(((type.encoding << 24) | (type.bitOffset << 16) | type.bits) >>> 0);
        break;
      case 'float':
        sized(0, false, type.size);
        break;
      case 'ptr':
      case 'typedef':
      case 'volatile':
      case 'const':
      case 'restrict':
        pointing(0, type.target);
        break;
      case 'type_tag':
        pointing(0, type.target, type.attribute === true);
        break;
      case 'array':
        sized(0, false, 0);
        w.put(
          BtfArray,
          { type: type.element, indexType: type.index, nelems: u32(type.count, id) },
          'type',
          'indexType',
        );
        break;
      case 'struct':
      case 'union': {
        // The kind flag says offsets carry bitfield sizes; set only when a member is a bitfield.
        const kflag = type.members.some((m) => m.bitfieldSize > 0);
        sized(type.members.length, kflag, type.size);
        for (const m of type.members) {
          if (kflag && (m.bitOffset > MAX_BITFIELD_OFFSET || m.bitfieldSize > MAX_BITFIELD_SIZE))
            throw new BtfError(`type ${id}: member ${m.name} has a bitfield out of range`, -1);
          const offset = kflag ? ((m.bitfieldSize << 24) | m.bitOffset) >>> 0 : u32(m.bitOffset, id);
          w.put(BtfMember, { nameOff: name(m.name), type: m.type, offset }, 'type');
        }
        break;
      }
      case 'enum':
        sized(type.values.length, type.signed, type.size);
        for (const v of type.values) {
          if (!Number.isInteger(v.value) || v.value < -(2 ** 31) || v.value >= 2 ** 32)
            throw new BtfError(`type ${id}: enum value ${v.name} = ${v.value} is not a 32-bit integer`, -1);
          w.put(BtfEnum, { nameOff: name(v.name), val: v.value >>> 0 });
        }
        break;
      case 'enum64':
        sized(type.values.length, type.signed, type.size);
        for (const v of type.values) {
          if (v.value < -(1n << 63n) || v.value >= 1n << 64n)
            throw new BtfError(`type ${id}: enum value ${v.name} = ${v.value} is not a 64-bit integer`, -1);
          const raw = BigInt.asUintN(64, v.value);
          w.put(BtfEnum64, {
            nameOff: name(v.name),
            valLo32: Number(raw & 0xffffffffn),
            valHi32: Number(raw >> 32n),
          });
        }
        break;
      case 'fwd':
        sized(0, type.union, 0);
        break;
      case 'func':
        pointing(type.linkage, type.proto);
        break;
      case 'func_proto':
        pointing(type.params.length, type.returns);
        for (const p of type.params) w.put(BtfParam, { nameOff: name(p.name), type: p.type }, 'type');
        break;
      case 'var':
        pointing(0, type.type);
        w.put(BtfVar, { linkage: type.linkage });
        break;
      case 'datasec':
        sized(type.vars.length, false, type.size);
        for (const v of type.vars)
          w.put(BtfVarSecinfo, { type: v.type, offset: u32(v.offset, id), size: u32(v.size, id) }, 'type');
        break;
      case 'decl_tag':
        pointing(0, type.target, type.attribute === true);
        w.put(BtfDeclTag, { componentIdx: type.componentIndex >>> 0 });
        break;
    }
    return this.nextId++;
  }

  /** Raw BTF of every type added: a 24-byte header, then the type section, then the strings. */
  marshal(options: MarshalOptions = {}): Uint8Array {
    const le = options.littleEndian ?? true;
    const { data, length, refs, refCount } = this.words;
    for (let r = 0; r < refCount; r++)
      if (data[refs[r]!]! >= this.nextId)
        throw new BtfError(
          `a type refers to type id ${data[refs[r]!]}, which was never added (last is ${this.nextId - 1})`,
          -1,
        );
    const strings = this.strings.bytes();
    const typeLen = length * WORD;
    const out = new Uint8Array(BtfHeader.size + typeLen + strings.length);
    const v = new DataView(out.buffer);
    const H = BtfHeader.fields;
    v.setUint16(H.magic.offset, BtfFormat.Magic, le);
    v.setUint8(H.version.offset, BtfFormat.Version);
    v.setUint32(H.hdrLen.offset, BtfHeader.size, le);
    v.setUint32(H.typeOff.offset, 0, le);
    v.setUint32(H.typeLen.offset, typeLen, le);
    v.setUint32(H.strOff.offset, typeLen, le);
    v.setUint32(H.strLen.offset, strings.length, le);
    for (let i = 0; i < length; i++) v.setUint32(BtfHeader.size + i * WORD, data[i]!, le);
    out.set(strings, BtfHeader.size + typeLen);
    return out;
  }
}

/** `n` as a u32 field of type `id`, or a `BtfError`. */
function u32(n: number, id: TypeId): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new BtfError(`type ${id}: ${n} does not fit a u32 field`, -1);
  return n;
}
