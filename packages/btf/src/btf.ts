/**
 * Parsed BTF. Parsing only walks the type section once to record where each type starts (a
 * Uint32Array over the raw bytes); types, names and the name index are decoded on first use, so
 * vmlinux costs little until it is queried.
 */
import {
  BtfArray,
  BtfDeclTag,
  BtfEnum,
  BtfEnum64,
  BtfFormat,
  type BtfFuncLinkage,
  BtfHeader,
  BtfKind,
  BtfMember,
  BtfParam,
  BtfType,
  BtfVar,
  type BtfVarLinkage,
  BtfVarSecinfo,
} from '@ebpf/uapi';
import { BtfError } from './error.ts';
import { NameIndex, StringTable } from './string-table.ts';
import { encodeName } from './strings.ts';
import {
  ArrayType,
  Const,
  Datasec,
  DeclTag,
  Enum,
  Enum64,
  Float,
  Func,
  FuncProto,
  Fwd,
  Int,
  type Kind,
  type Member,
  Ptr,
  Restrict,
  Struct,
  type Type,
  Typedef,
  type TypeId,
  TypeTag,
  Union,
  Var,
  Void,
  Volatile,
} from './types.ts';

export interface ParseOptions {
  /** The BTF this one is split from (vmlinux for a module): ids and strings continue its. */
  readonly base?: Btf;
}

const VOID = new Void();
/** Pointer size of the BPF target and of every 64-bit kernel. */
const POINTER_SIZE = 8;

/** Bytes after the `btf_type` of a type of `kind` with `vlen` entries; -1 for an unknown kind. */
function extraBytes(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.Int:
      return 4;
    case BtfKind.Array:
      return BtfArray.size;
    case BtfKind.Struct:
    case BtfKind.Union:
      return vlen * BtfMember.size;
    case BtfKind.Enum:
      return vlen * BtfEnum.size;
    case BtfKind.Enum64:
      return vlen * BtfEnum64.size;
    case BtfKind.FuncProto:
      return vlen * BtfParam.size;
    case BtfKind.Var:
      return BtfVar.size;
    case BtfKind.Datasec:
      return vlen * BtfVarSecinfo.size;
    case BtfKind.DeclTag:
      return BtfDeclTag.size;
    case BtfKind.Ptr:
    case BtfKind.Fwd:
    case BtfKind.Typedef:
    case BtfKind.Volatile:
    case BtfKind.Const:
    case BtfKind.Restrict:
    case BtfKind.Func:
    case BtfKind.Float:
    case BtfKind.TypeTag:
      return 0;
    default:
      return -1;
  }
}

const H = BtfHeader.fields;
const T = BtfType.fields;

export class Btf {
  /** Whether the input is little-endian. */
  readonly littleEndian: boolean;
  /** Id of the first type of this BTF (1, or the base's next id for split BTF). */
  readonly firstId: TypeId;
  readonly base: Btf | undefined;
  private readonly view: DataView;
  /** Absolute offsets of the types, in id order, then the end of the type section. */
  private readonly starts: Uint32Array;
  /** The string section, continuing the base's for split BTF. */
  readonly strings: StringTable;
  private readonly decoded: (Type | undefined)[];
  private nameIndex: NameIndex | undefined;

  private constructor(bytes: Uint8Array, base: Btf | undefined) {
    this.base = base;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const v = this.view;
    if (bytes.byteLength < BtfHeader.size)
      throw new BtfError(`${bytes.byteLength} bytes are too few for a header (${BtfHeader.size})`, 0);
    if (v.getUint16(H.magic.offset, true) === BtfFormat.Magic) this.littleEndian = true;
    else if (v.getUint16(H.magic.offset, false) === BtfFormat.Magic) this.littleEndian = false;
    else throw new BtfError(`bad magic 0x${v.getUint16(0, true).toString(16)} (not BTF)`, 0);
    const le = this.littleEndian;
    const version = v.getUint8(H.version.offset);
    if (version !== BtfFormat.Version)
      throw new BtfError(`version ${version} is not ${BtfFormat.Version}`, H.version.offset);
    const hdrLen = v.getUint32(H.hdrLen.offset, le);
    if (hdrLen < BtfHeader.size || hdrLen > bytes.byteLength)
      throw new BtfError(
        `header length ${hdrLen} outside ${BtfHeader.size}..${bytes.byteLength}`,
        H.hdrLen.offset,
      );
    const section = (off: keyof typeof H, len: keyof typeof H): [number, number] => {
      const o = v.getUint32(H[off].offset, le);
      const l = v.getUint32(H[len].offset, le);
      if (hdrLen + o + l > bytes.byteLength)
        throw new BtfError(`section at ${o} of ${l} bytes runs past the end of the input`, H[off].offset);
      return [hdrLen + o, l];
    };
    const [typeOff, typeLen] = section('typeOff', 'typeLen');
    const [strOff, strLen] = section('strOff', 'strLen');
    if (typeOff % 4 !== 0) throw new BtfError('type section is not 4-byte aligned', H.typeOff.offset);
    if (strLen > 0 && bytes[strOff + strLen - 1] !== 0)
      throw new BtfError('string section does not end with a NUL', strOff + strLen - 1);
    if (!base && strLen > 0 && bytes[strOff] !== 0)
      throw new BtfError('string section does not start with the empty string', strOff);
    this.strings = new StringTable(bytes.subarray(strOff, strOff + strLen), base?.strings);
    this.firstId = base ? base.firstId + base.count : 1;
    this.starts = scanTypes(v, le, typeOff, typeLen);
    this.decoded = new Array(this.count);
  }

  /** Parses raw BTF (`/sys/kernel/btf/vmlinux`, an object's `.BTF` section) of either byte order. */
  static parse(bytes: Uint8Array, options: ParseOptions = {}): Btf {
    return new Btf(bytes, options.base);
  }

  /** Number of types in this BTF, not counting `void` nor the base's. */
  get count(): number {
    return this.starts.length - 1;
  }

  /** The id one past the last type: every id below it names a type of this BTF or its base. */
  get nextId(): TypeId {
    return this.firstId + this.count;
  }

  /** The type of `id`; throws a `BtfError` for an id this BTF does not have. */
  typeById(id: TypeId): Type {
    if (id === 0) return VOID;
    if (id < this.firstId) {
      if (this.base && id > 0) return this.base.typeById(id);
      throw new BtfError(`type id ${id} does not exist`, -1);
    }
    const k = id - this.firstId;
    if (!(k < this.count))
      throw new BtfError(`type id ${id} does not exist (last is ${this.nextId - 1})`, -1);
    const cached = this.decoded[k];
    if (cached) return cached;
    const t = this.decode(id, this.starts[k]!);
    this.decoded[k] = t;
    return t;
  }

  /** Every type of this BTF (not its base's), in id order. */
  *types(): IterableIterator<Type> {
    for (let id = this.firstId; id < this.nextId; id++) yield this.typeById(id);
  }

  [Symbol.iterator](): IterableIterator<Type> {
    return this.types();
  }

  /** The ids of every type called `name` here or in the base, optionally of one kind. */
  typesByName(name: string, kind?: Kind): Type[] {
    const found = this.base ? this.base.typesByName(name, kind) : [];
    const bytes = encodeName(name);
    if (!bytes) return found;
    for (const k of this.names().lookup(bytes)) {
      const t = this.typeById(this.firstId + k);
      if (kind === undefined || t.kind === kind) found.push(t);
    }
    return found;
  }

  /**
   * The one type called `name` (of `kind`, if given), or undefined if there is none. Several
   * candidates are a `BtfError`: ask `typesByName` and choose.
   */
  typeByName(name: string, kind?: Kind): Type | undefined {
    const all = this.typesByName(name, kind);
    if (all.length > 1)
      throw new BtfError(
        `${all.length} types are called ${name}${kind ? ` (${kind})` : ''}: ids ${all.map((t) => t.id).join(', ')}; use typesByName`,
        -1,
      );
    return all[0];
  }

  /** The name of type `id` without decoding the type: for scans over every type (CO-RE's index). */
  typeName(id: TypeId): string {
    if (id < this.firstId) return id === 0 ? '' : (this.base?.typeName(id) ?? this.typeById(id).name);
    const at = this.starts[id - this.firstId];
    if (at === undefined || id >= this.nextId) return this.typeById(id).name;
    return this.str(this.view.getUint32(at + T.nameOff.offset, this.littleEndian), at);
  }

  /** Follows typedefs and qualifiers (const, volatile, restrict, type tags) to the type they name. */
  resolve(id: TypeId): Type {
    let t = this.typeById(id);
    for (let hops = 0; ; hops++) {
      switch (t.kind) {
        case 'typedef':
        case 'const':
        case 'volatile':
        case 'restrict':
        case 'type_tag':
          if (hops > this.nextId)
            throw new BtfError(`type ${id} refers to itself through typedefs/qualifiers`, -1);
          t = this.typeById(t.target);
          break;
        default:
          return t;
      }
    }
  }

  /** Size in bytes of a value of type `id`; a `BtfError` for types without one (void, fwd, func). */
  sizeof(id: TypeId): number {
    let multiplier = 1;
    for (let hops = 0; hops <= this.nextId; hops++) {
      const t = this.resolve(id);
      switch (t.kind) {
        case 'int':
        case 'float':
        case 'enum':
        case 'enum64':
        case 'struct':
        case 'union':
        case 'datasec':
          return multiplier * t.size;
        case 'ptr':
          return multiplier * POINTER_SIZE;
        case 'array':
          multiplier *= t.count;
          id = t.element;
          break;
        case 'var':
          id = t.type;
          break;
        default:
          throw new BtfError(`type ${t.id} (${t.kind}) has no size`, -1);
      }
    }
    throw new BtfError(`type ${id} is an array of itself`, -1);
  }

  /** Alignment in bytes of a value of type `id`, as a C compiler lays it out. */
  alignof(id: TypeId, depth = 0): number {
    if (depth > this.nextId) throw new BtfError(`type ${id} contains itself`, -1);
    const t = this.resolve(id);
    switch (t.kind) {
      case 'int':
      case 'float':
      case 'enum':
      case 'enum64':
        return Math.min(t.size, POINTER_SIZE);
      case 'ptr':
        return POINTER_SIZE;
      case 'array':
        return this.alignof(t.element, depth + 1);
      case 'var':
        return this.alignof(t.type, depth + 1);
      case 'struct':
      case 'union': {
        let align = 1;
        for (const m of t.members) align = Math.max(align, this.alignof(m.type, depth + 1));
        return align;
      }
      default:
        throw new BtfError(`type ${t.id} (${t.kind}) has no alignment`, -1);
    }
  }

  /** A C spelling of type `id` for messages: `struct task_struct *`, `const char[16]`, `void`. */
  nameOf(id: TypeId, depth = 0): string {
    if (depth > this.nextId) throw new BtfError(`type ${id} refers to itself`, -1);
    const t = this.typeById(id);
    switch (t.kind) {
      case 'void':
        return 'void';
      case 'struct':
      case 'union':
      case 'enum':
        return `${t.kind} ${t.name || '(anon)'}`;
      case 'enum64':
        return `enum ${t.name || '(anon)'}`;
      case 'fwd':
        return `${t.union ? 'union' : 'struct'} ${t.name}`;
      case 'ptr':
        return `${this.nameOf(t.target, depth + 1)} *`.replace('* *', '**');
      case 'const':
      case 'volatile':
      case 'restrict':
        return `${t.kind} ${this.nameOf(t.target, depth + 1)}`;
      case 'type_tag':
        return this.nameOf(t.target, depth + 1);
      case 'array':
        return `${this.nameOf(t.element, depth + 1)}[${t.count}]`;
      case 'func_proto':
        return `${this.nameOf(t.returns, depth + 1)} (*)(${t.params.map((p) => (p.type === 0 ? '...' : this.nameOf(p.type, depth + 1))).join(', ')})`;
      default:
        return t.name;
    }
  }

  /** The string at `off` of the string section (the base's, below its length); a `BtfError` naming `at` if out of range. */
  str(off: number, at: number): string {
    const s = this.strings.at(off);
    if (s === undefined) throw new BtfError(`string offset ${off} is past the string section`, at);
    return s;
  }

  /** The name index: type `firstId + k` is entry `k`, keyed by its name's offset (unnamed: none). */
  private names(): NameIndex {
    if (this.nameIndex) return this.nameIndex;
    const offsets = new Int32Array(this.count);
    for (let k = 0; k < this.count; k++) {
      const off = this.view.getUint32(this.starts[k]! + T.nameOff.offset, this.littleEndian);
      offsets[k] = off === 0 ? -1 : off;
    }
    this.nameIndex = new NameIndex(this.strings, offsets);
    return this.nameIndex;
  }

  /** Checks that `ref` (read at byte `at`) names a type. */
  private ref(ref: number, at: number): TypeId {
    if (ref >= this.nextId)
      throw new BtfError(`refers to type id ${ref}, past the last (${this.nextId - 1})`, at);
    return ref;
  }

  private decode(id: TypeId, at: number): Type {
    const v = this.view;
    const le = this.littleEndian;
    const u32 = (o: number): number => v.getUint32(o, le);
    const info = u32(at + T.info.offset);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    const name = this.str(u32(at + T.nameOff.offset), at);
    const sizeOrType = u32(at + T.size.offset);
    const body = at + BtfType.size;
    const typeRef = (): TypeId => this.ref(sizeOrType, at + T.type.offset);
    const entries = <E>(size: number, read: (o: number) => E): E[] => {
      const out: E[] = new Array(vlen);
      for (let i = 0; i < vlen; i++) out[i] = read(body + i * size);
      return out;
    };
    switch (kind) {
      case BtfKind.Int: {
        const word = u32(body);
        return new Int(id, name, sizeOrType, (word >>> 24) & 0x0f, (word >>> 16) & 0xff, word & 0xff);
      }
      case BtfKind.Float:
        return new Float(id, name, sizeOrType);
      case BtfKind.Ptr:
        return new Ptr(id, name, typeRef());
      case BtfKind.Typedef:
        return new Typedef(id, name, typeRef());
      case BtfKind.Volatile:
        return new Volatile(id, name, typeRef());
      case BtfKind.Const:
        return new Const(id, name, typeRef());
      case BtfKind.Restrict:
        return new Restrict(id, name, typeRef());
      case BtfKind.TypeTag:
        return new TypeTag(id, name, typeRef(), kflag);
      case BtfKind.Array: {
        const A = BtfArray.fields;
        return new ArrayType(
          id,
          this.ref(u32(body + A.type.offset), body + A.type.offset),
          this.ref(u32(body + A.indexType.offset), body + A.indexType.offset),
          u32(body + A.nelems.offset),
        );
      }
      case BtfKind.Struct:
      case BtfKind.Union: {
        const M = BtfMember.fields;
        const members = entries<Member>(BtfMember.size, (o) => {
          const offset = u32(o + M.offset.offset);
          return {
            name: this.str(u32(o + M.nameOff.offset), o),
            type: this.ref(u32(o + M.type.offset), o + M.type.offset),
            // With kflag the top 8 bits are the bitfield size (BTF_MEMBER_BITFIELD_SIZE).
            bitOffset: kflag ? offset & 0xffffff : offset,
            bitfieldSize: kflag ? offset >>> 24 : 0,
          };
        });
        return kind === BtfKind.Struct
          ? new Struct(id, name, sizeOrType, members)
          : new Union(id, name, sizeOrType, members);
      }
      case BtfKind.Enum: {
        const E = BtfEnum.fields;
        const values = entries(BtfEnum.size, (o) => {
          const raw = u32(o + E.val.offset);
          return { name: this.str(u32(o + E.nameOff.offset), o), value: kflag ? raw | 0 : raw };
        });
        return new Enum(id, name, sizeOrType, kflag, values);
      }
      case BtfKind.Enum64: {
        const E = BtfEnum64.fields;
        const values = entries(BtfEnum64.size, (o) => {
          const raw = (BigInt(u32(o + E.valHi32.offset)) << 32n) | BigInt(u32(o + E.valLo32.offset));
          return {
            name: this.str(u32(o + E.nameOff.offset), o),
            value: kflag ? BigInt.asIntN(64, raw) : raw,
          };
        });
        return new Enum64(id, name, sizeOrType, kflag, values);
      }
      case BtfKind.Fwd:
        return new Fwd(id, name, kflag);
      case BtfKind.Func:
        return new Func(id, name, typeRef(), vlen as BtfFuncLinkage);
      case BtfKind.FuncProto: {
        const P = BtfParam.fields;
        const params = entries(BtfParam.size, (o) => ({
          name: this.str(u32(o + P.nameOff.offset), o),
          type: this.ref(u32(o + P.type.offset), o + P.type.offset),
        }));
        return new FuncProto(id, typeRef(), params);
      }
      case BtfKind.Var:
        return new Var(id, name, typeRef(), u32(body + BtfVar.fields.linkage.offset) as BtfVarLinkage);
      case BtfKind.Datasec: {
        const S = BtfVarSecinfo.fields;
        const vars = entries(BtfVarSecinfo.size, (o) => ({
          type: this.ref(u32(o + S.type.offset), o + S.type.offset),
          offset: u32(o + S.offset.offset),
          size: u32(o + S.size.offset),
        }));
        return new Datasec(id, name, sizeOrType, vars);
      }
      case BtfKind.DeclTag:
        return new DeclTag(
          id,
          name,
          typeRef(),
          v.getInt32(body + BtfDeclTag.fields.componentIdx.offset, le),
          kflag,
        );
      default:
        throw new BtfError(`unknown kind ${kind}`, at + T.info.offset);
    }
  }
}

/** One pass over the type section: where each type starts, then where the section ends. */
function scanTypes(v: DataView, le: boolean, off: number, len: number): Uint32Array {
  const end = off + len;
  const starts = new Uint32Array(Math.floor(len / BtfType.size) + 1);
  let n = 0;
  let at = off;
  while (at < end) {
    if (at + BtfType.size > end) throw new BtfError('type record runs past the type section', at);
    const info = v.getUint32(at + T.info.offset, le);
    const kind = (info >>> 24) & 0x1f;
    const extra = extraBytes(kind, info & 0xffff);
    if (extra < 0 || kind === BtfKind.Unkn) throw new BtfError(`unknown kind ${kind}`, at + T.info.offset);
    starts[n++] = at;
    at += BtfType.size + extra;
  }
  if (at !== end) throw new BtfError('type record runs past the type section', starts[n - 1] ?? off);
  starts[n] = end;
  return starts.slice(0, n + 1);
}
