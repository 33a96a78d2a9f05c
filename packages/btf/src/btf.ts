/**
 * Parsed BTF. Parsing only walks the type section once to record where each type starts (a
 * Uint32Array over the raw bytes, read as native-endian words); types and the name index are
 * built on first use, so vmlinux costs little until it is queried.
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
import { type CDumpOptions, toC } from './format/c.ts';
import { Layout } from './format/layout.ts';
import { KIND_NUMBER } from './kinds.ts';
import { NameIndex, StringTable } from './string-table.ts';
import { encodeName } from './strings.ts';
import {
  ArrayType,
  Const,
  Datasec,
  DeclTag,
  Enum,
  Enum64,
  type EnumValue,
  Float,
  Func,
  FuncProto,
  Fwd,
  Int,
  type Kind,
  type Member,
  type Param,
  Ptr,
  Restrict,
  Struct,
  type Type,
  Typedef,
  type TypeId,
  TypeTag,
  Union,
  Var,
  type VarSecinfo,
  Void,
  Volatile,
} from './types.ts';

/** Options of {@link Btf.parse}. */
export interface ParseOptions {
  /** The BTF this one is split from (vmlinux for a module): ids and strings continue its. */
  readonly base?: Btf;
}

const VOID = new Void();

const TYPE_WORDS = BtfType.size / 4;
/** Decoded types are cached in chunks of 2^this ids. */
const DECODED_CHUNK_BITS = 8;

/**
 * Words of a type record of each kind: `STEP[kind] + vlen * PER_ENTRY[kind]` (STEP 0: no such
 * kind). Tables, not a switch, because the scan runs once per type of vmlinux on a cold start.
 */
const STEP = new Uint8Array(32);
const PER_ENTRY = new Uint8Array(32);
for (const [kind, fixed, entry] of [
  [BtfKind.Int, 4, 0],
  [BtfKind.Array, BtfArray.size, 0],
  [BtfKind.Struct, 0, BtfMember.size],
  [BtfKind.Union, 0, BtfMember.size],
  [BtfKind.Enum, 0, BtfEnum.size],
  [BtfKind.Enum64, 0, BtfEnum64.size],
  [BtfKind.FuncProto, 0, BtfParam.size],
  [BtfKind.Var, BtfVar.size, 0],
  [BtfKind.Datasec, 0, BtfVarSecinfo.size],
  [BtfKind.DeclTag, BtfDeclTag.size, 0],
  [BtfKind.Ptr, 0, 0],
  [BtfKind.Fwd, 0, 0],
  [BtfKind.Typedef, 0, 0],
  [BtfKind.Volatile, 0, 0],
  [BtfKind.Const, 0, 0],
  [BtfKind.Restrict, 0, 0],
  [BtfKind.Func, 0, 0],
  [BtfKind.Float, 0, 0],
  [BtfKind.TypeTag, 0, 0],
] as const) {
  STEP[kind] = TYPE_WORDS + fixed / 4;
  PER_ENTRY[kind] = entry / 4;
}
const ALL_KINDS = Object.values(KIND_NUMBER);
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The word index of each field of a uapi layout, and its size in words: decoding reads the type section as words. */
function wordFields<F extends string>(layout: {
  size: number;
  fields: Record<F, { offset: number }>;
}): Record<F, number> & { words: number } {
  const out = { words: layout.size / 4 } as Record<F, number> & { words: number };
  for (const [f, { offset }] of Object.entries(layout.fields) as [F, { offset: number }][])
    (out as Record<F, number>)[f] = offset / 4;
  return out;
}
const { nameOff: NAME, info: INFO, size: SIZE } = wordFields(BtfType);
const A = wordFields(BtfArray);
const M = wordFields(BtfMember);
const E = wordFields(BtfEnum);
const E64 = wordFields(BtfEnum64);
const P = wordFields(BtfParam);
const V = wordFields(BtfVar);
const S = wordFields(BtfVarSecinfo);
const D = wordFields(BtfDeclTag);

const H = BtfHeader.fields;

/**
 * Parsed BTF, raw or split, of either byte order. Types decode lazily, one at a time, as ids are
 * asked for; names are indexed on the first query by name.
 *
 * @example
 * ```ts
 * import { Btf } from '@ebpf/btf';
 * import { kernelBtf } from '@ebpf/btf/node';
 *
 * const vmlinux = kernelBtf();
 * const task = vmlinux.typeByName('task_struct', 'struct');
 * console.log(task && vmlinux.sizeof(task.id));
 *
 * const object = Btf.parse(bytes); // an object's .BTF section
 * console.log(object.toC());
 * ```
 */
export class Btf {
  /** Whether the input is little-endian. */
  readonly littleEndian: boolean;
  /** Id of the first type of this BTF (1, or the base's next id for split BTF). */
  readonly firstId: TypeId;
  readonly base: Btf | undefined;
  /** The type section as native-endian words. */
  private readonly words: Uint32Array;
  /** Byte offset of the type section in the input. */
  private readonly typeOff: number;
  /** Word index (in `words`) of each type, in id order, then the end of the type section. */
  private readonly starts: Uint32Array;
  /** The raw kind of each type, in id order: `indexOf` finds the types of a kind natively. */
  private readonly kinds: Uint8Array;
  /** The string section, continuing the base's for split BTF. */
  readonly strings: StringTable;
  /**
   * Decoded types by id - firstId, in chunks made on first use: one array of 126,000 holes for
   * vmlinux costs a cold start some 0.6 ms.
   */
  private readonly decoded: (Type | undefined)[][] = [];
  /** Sizes and alignments by id, made on the first `sizeof` or `alignof`. */
  private layout: Layout | undefined;
  /** Per raw kind: whether a name query asked for it already (the second one builds its index). */
  private readonly askedKinds = new Uint8Array(32);
  /** Per raw kind, its types (id - firstId) and their name index, built on the second query for the kind. */
  private readonly nameIndexes: ({ types: Int32Array; index: NameIndex } | undefined)[] = [];

  private constructor(bytes: Uint8Array, base: Btf | undefined) {
    this.base = base;
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
    if (typeLen % 4 !== 0) throw new BtfError('type section length is not a multiple of 4', H.typeLen.offset);
    if (strLen > 0 && bytes[strOff + strLen - 1] !== 0)
      throw new BtfError('string section does not end with a NUL', strOff + strLen - 1);
    if (!base && strLen > 0 && bytes[strOff] !== 0)
      throw new BtfError('string section does not start with the empty string', strOff);
    this.strings = new StringTable(bytes.subarray(strOff, strOff + strLen), base?.strings);
    this.firstId = base ? base.firstId + base.count : 1;
    this.typeOff = typeOff;
    this.words = nativeWords(bytes, typeOff, typeLen, le);
    ({ starts: this.starts, kinds: this.kinds } = scanTypes(this.words, typeOff));
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
    let chunk = this.decoded[k >>> DECODED_CHUNK_BITS];
    if (!chunk) {
      chunk = new Array(1 << DECODED_CHUNK_BITS);
      this.decoded[k >>> DECODED_CHUNK_BITS] = chunk;
    }
    const at = k & ((1 << DECODED_CHUNK_BITS) - 1);
    const cached = chunk[at];
    if (cached) return cached;
    const t = this.decode(id, this.starts[k]!);
    chunk[at] = t;
    return t;
  }

  /** Every type of this BTF (not its base's), in id order. */
  *types(): IterableIterator<Type> {
    for (let id = this.firstId; id < this.nextId; id++) yield this.typeById(id);
  }

  /** Iterates this BTF's types (not its base's) in id order, like {@link Btf.types}. */
  [Symbol.iterator](): IterableIterator<Type> {
    return this.types();
  }

  /** The ids of every type called `name` here or in the base, optionally of one kind. */
  typesByName(name: string, kind?: Kind): Type[] {
    const found = this.base ? this.base.typesByName(name, kind) : [];
    const bytes = encodeName(name);
    // A name with a NUL or a lone surrogate is no BTF string.
    if (!bytes || bytes.includes(0)) return found;
    if (kind === 'void') return found;
    const ks =
      kind === undefined
        ? ALL_KINDS.flatMap((k) => this.named(bytes, k)).sort((a, b) => a - b)
        : this.named(bytes, KIND_NUMBER[kind]);
    for (const k of ks) found.push(this.typeById(this.firstId + k));
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
    const size = this.sizes().byteSize(id);
    if (size < 0) {
      const t = this.resolve(id);
      throw new BtfError(`type ${t.id} (${t.kind}) has no size`, -1);
    }
    return size;
  }

  /**
   * Alignment in bytes of a value of type `id`, as a C compiler lays it out (1 for a packed
   * struct); a `BtfError` for types without one (void, fwd, func).
   */
  alignof(id: TypeId): number {
    const align = this.sizes().alignOf(id);
    if (align <= 0) {
      const t = this.resolve(id);
      throw new BtfError(`type ${t.id} (${t.kind}) has no alignment`, -1);
    }
    return align;
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

  /**
   * This BTF as a C header, the same bytes as `bpftool btf dump file ... format c` (Debian's
   * bpftool 7.1): every type, or with `types` a set of them and all they need.
   */
  toC(options?: CDumpOptions): string {
    return toC(this, options);
  }

  /** The size and alignment walk the printers use too, cached for `sizeof` and `alignof`. */
  private sizes(): Layout {
    this.layout ??= new Layout(this);
    return this.layout;
  }

  /** The string at `off` of the string section (the base's, below its length); a `BtfError` naming `at` if out of range. */
  str(off: number, at: number): string {
    const s = this.strings.at(off);
    if (s === undefined) throw new BtfError(`string offset ${off} is past the string section`, at);
    return s;
  }

  /**
   * The indices (id - firstId) of the types of raw kind `kind` called `name` (UTF-8 bytes), in id
   * order. Each kind has its own name index, so `typeByName(name, 'struct')` hashes the names of
   * structs only, not those of vmlinux's 56,000 functions.
   */
  private named(name: Uint8Array, kind: number): number[] {
    const entry = this.nameIndexes[kind];
    if (entry) return entry.index.lookup(name).map((e) => entry.types[e]!);
    if (this.askedKinds[kind]) {
      this.nameIndexes[kind] = this.nameIndex(kind);
      return this.named(name, kind);
    }
    this.askedKinds[kind] = 1;
    return this.compareNames(name, kind);
  }

  /**
   * What the first query of a kind does: compare the names of that kind's types with `name` in
   * place, in one loop. A cold process runs it before the JIT has warmed up, and hashing every
   * name would cost several times more. A small method of its own, as V8 compiles a method
   * whole on its first call.
   */
  private compareNames(name: Uint8Array, kind: number): number[] {
    const { words, starts, kinds, strings } = this;
    const { bytes, first } = strings;
    // Locals, not module constants or properties: fewer steps per type for the interpreter.
    const nameAt = NAME;
    const length = name.length;
    const found: number[] = [];
    for (let k = kinds.indexOf(kind); k >= 0; k = kinds.indexOf(kind, k + 1)) {
      const off = words[starts[k]! + nameAt]!;
      // The NUL after the name first: most names of another length fail there.
      if (off !== 0 && (off < first || bytes[off - first + length] === 0) && strings.equals(off, name))
        found.push(k);
    }
    return found;
  }

  /** The types of raw kind `kind` (id - firstId) and the hash index of their names. */
  private nameIndex(kind: number): { types: Int32Array; index: NameIndex } {
    const { words, starts, strings } = this;
    const types = this.ofKind(kind);
    const offsets = new Int32Array(types.length);
    for (let e = 0; e < types.length; e++) offsets[e] = words[starts[types[e]!]! + NAME]! || -1;
    return { types, index: new NameIndex(strings, offsets) };
  }

  /** The indices (id - firstId) of the types of raw kind `kind`. */
  private ofKind(kind: number): Int32Array {
    const { kinds } = this;
    let n = 0;
    for (let k = kinds.indexOf(kind); k >= 0; k = kinds.indexOf(kind, k + 1)) n++;
    const types = new Int32Array(n);
    for (let k = kinds.indexOf(kind), e = 0; k >= 0; k = kinds.indexOf(kind, k + 1)) types[e++] = k;
    return types;
  }

  /** Byte offset in the input of word `w` of the type section, for errors. */
  private at(w: number): number {
    return this.typeOff + w * 4;
  }

  /** Checks that the type id at word `w` names a type. */
  private ref(w: number): TypeId {
    const ref = this.words[w]!;
    if (ref >= this.nextId)
      throw new BtfError(`refers to type id ${ref}, past the last (${this.nextId - 1})`, this.at(w));
    return ref;
  }

  /** The string whose offset is word `w`. */
  private strAt(w: number): string {
    return this.str(this.words[w]!, this.at(w));
  }

  /**
   * Decodes the type of `id`, whose `btf_type` starts at word `w`. Kinds with entries decode
   * them in their own methods: a cold process compiles a function on its first call, so the
   * first lookup of a struct compiles the struct code only.
   */
  private decode(id: TypeId, w: number): Type {
    const words = this.words;
    const info = words[w + INFO]!;
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kflag = info >>> 31 === 1;
    const name = this.strAt(w + NAME);
    const sizeOrType = words[w + SIZE]!;
    const body = w + TYPE_WORDS;
    switch (kind) {
      case BtfKind.Int: {
        const word = words[body]!;
        return new Int(id, name, sizeOrType, (word >>> 24) & 0x0f, (word >>> 16) & 0xff, word & 0xff);
      }
      case BtfKind.Float:
        return new Float(id, name, sizeOrType);
      case BtfKind.Ptr:
        return new Ptr(id, name, this.ref(w + SIZE));
      case BtfKind.Typedef:
        return new Typedef(id, name, this.ref(w + SIZE));
      case BtfKind.Volatile:
        return new Volatile(id, name, this.ref(w + SIZE));
      case BtfKind.Const:
        return new Const(id, name, this.ref(w + SIZE));
      case BtfKind.Restrict:
        return new Restrict(id, name, this.ref(w + SIZE));
      case BtfKind.TypeTag:
        return new TypeTag(id, name, this.ref(w + SIZE), kflag);
      case BtfKind.Array:
        return new ArrayType(
          id,
          this.ref(body + A.type),
          this.ref(body + A.indexType),
          words[body + A.nelems]!,
        );
      case BtfKind.Struct:
        return new Struct(id, name, sizeOrType, this.members(body, vlen, kflag));
      case BtfKind.Union:
        return new Union(id, name, sizeOrType, this.members(body, vlen, kflag));
      case BtfKind.Enum:
        return new Enum(id, name, sizeOrType, kflag, this.enumValues(body, vlen, kflag));
      case BtfKind.Enum64:
        return new Enum64(id, name, sizeOrType, kflag, this.enum64Values(body, vlen, kflag));
      case BtfKind.Fwd:
        return new Fwd(id, name, kflag);
      case BtfKind.Func:
        return new Func(id, name, this.ref(w + SIZE), vlen as BtfFuncLinkage);
      case BtfKind.FuncProto:
        return new FuncProto(id, this.ref(w + SIZE), this.params(body, vlen));
      case BtfKind.Var:
        return new Var(id, name, this.ref(w + SIZE), words[body + V.linkage] as BtfVarLinkage);
      case BtfKind.Datasec:
        return new Datasec(id, name, sizeOrType, this.secinfos(body, vlen));
      case BtfKind.DeclTag:
        return new DeclTag(id, name, this.ref(w + SIZE), words[body + D.componentIdx]! | 0, kflag);
      default:
        throw new BtfError(`unknown kind ${kind}`, this.at(w + INFO));
    }
  }

  /** The `vlen` members of a struct or union from word `body`. */
  private members(body: number, vlen: number, kflag: boolean): Member[] {
    const words = this.words;
    const out: Member[] = new Array(vlen);
    for (let i = 0, o = body; i < vlen; i++, o += M.words) {
      const offset = words[o + M.offset]!;
      out[i] = {
        name: this.strAt(o + M.nameOff),
        type: this.ref(o + M.type),
        // With kflag the top 8 bits are the bitfield size (BTF_MEMBER_BITFIELD_SIZE).
        bitOffset: kflag ? offset & 0xffffff : offset,
        bitfieldSize: kflag ? offset >>> 24 : 0,
      };
    }
    return out;
  }

  /** The `vlen` values of an enum from word `body`, signed with `kflag`. */
  private enumValues(body: number, vlen: number, kflag: boolean): EnumValue<number>[] {
    const out: EnumValue<number>[] = new Array(vlen);
    for (let i = 0, o = body; i < vlen; i++, o += E.words) {
      const raw = this.words[o + E.val]!;
      out[i] = { name: this.strAt(o + E.nameOff), value: kflag ? raw | 0 : raw };
    }
    return out;
  }

  /** The `vlen` values of an enum64 from word `body`, signed with `kflag`. */
  private enum64Values(body: number, vlen: number, kflag: boolean): EnumValue<bigint>[] {
    const words = this.words;
    const out: EnumValue<bigint>[] = new Array(vlen);
    for (let i = 0, o = body; i < vlen; i++, o += E64.words) {
      const raw = (BigInt(words[o + E64.valHi32]!) << 32n) | BigInt(words[o + E64.valLo32]!);
      out[i] = { name: this.strAt(o + E64.nameOff), value: kflag ? BigInt.asIntN(64, raw) : raw };
    }
    return out;
  }

  /** The `vlen` parameters of a function prototype from word `body`. */
  private params(body: number, vlen: number): Param[] {
    const out: Param[] = new Array(vlen);
    for (let i = 0, o = body; i < vlen; i++, o += P.words)
      out[i] = { name: this.strAt(o + P.nameOff), type: this.ref(o + P.type) };
    return out;
  }

  /** The `vlen` variables of a data section from word `body`. */
  private secinfos(body: number, vlen: number): VarSecinfo[] {
    const words = this.words;
    const out: VarSecinfo[] = new Array(vlen);
    for (let i = 0, o = body; i < vlen; i++, o += S.words)
      out[i] = { type: this.ref(o + S.type), offset: words[o + S.offset]!, size: words[o + S.size]! };
    return out;
  }
}

/**
 * The type section as words in the host's byte order: a view of the input when its order and
 * alignment allow, else a byte-swapped copy.
 */
function nativeWords(bytes: Uint8Array, off: number, len: number, le: boolean): Uint32Array {
  const at = bytes.byteOffset + off;
  if (le === HOST_LITTLE_ENDIAN && at % 4 === 0) return new Uint32Array(bytes.buffer, at, len / 4);
  const v = new DataView(bytes.buffer, at, len);
  const words = new Uint32Array(len / 4);
  for (let i = 0; i < words.length; i++) words[i] = v.getUint32(i * 4, le);
  return words;
}

/**
 * One pass over the type section: the word index of each type, then that of the section's end.
 * The results are views of arrays sized for the most types the section could hold, not copies:
 * copying them costs more time than the unused tail costs memory.
 */
function scanTypes(words: Uint32Array, typeOff: number): { starts: Uint32Array; kinds: Uint8Array } {
  const starts = new Uint32Array(Math.floor(words.length / TYPE_WORDS) + 1);
  const kinds = new Uint8Array(starts.length);
  const n = walkTypes(words, starts, kinds);
  const w = starts[n]!;
  if (w !== words.length) throw scanError(words, w, n > 0 ? starts[n - 1]! : 0, typeOff);
  return { starts: starts.subarray(0, n + 1), kinds: kinds.subarray(0, n) };
}

/**
 * The scan's loop: fills `starts` and `kinds` and returns the number of types, with `starts[n]`
 * the word where it stopped (the section's end unless the input is bad). A cold process runs
 * the loop before the JIT has warmed up, so it does as little as it can per type, and nothing
 * follows it but a return: V8 optimizes it while it runs, and code after the loop, which has
 * never run, would throw that optimized code away on the way out.
 */
function walkTypes(words: Uint32Array, starts: Uint32Array, kinds: Uint8Array): number {
  // The module's constants as locals: the interpreter, which runs the first part of the loop,
  // would check a module constant for initialization at each use.
  const infoAt = INFO;
  const stepOf = STEP;
  const perEntryOf = PER_ENTRY;
  const end = words.length;
  let n = 0;
  let w = 0;
  for (;;) {
    starts[n] = w;
    if (w >= end) return n;
    // Past the end the info word reads as undefined, kind 0, which has no step.
    const info = words[w + infoAt]!;
    const kind = (info >>> 24) & 0x1f;
    const step = stepOf[kind]!;
    if (step === 0) return n;
    kinds[n++] = kind;
    w += step + (info & 0xffff) * perEntryOf[kind]!;
  }
}

/** Why the scan stopped at word `w` before the end, `last` the start of the type before. */
function scanError(words: Uint32Array, w: number, last: number, typeOff: number): BtfError {
  if (w > words.length) return new BtfError('type record runs past the type section', typeOff + last * 4);
  if (w + TYPE_WORDS > words.length)
    return new BtfError('type record runs past the type section', typeOff + w * 4);
  return new BtfError(`unknown kind ${(words[w + INFO]! >>> 24) & 0x1f}`, typeOff + (w + INFO) * 4);
}
