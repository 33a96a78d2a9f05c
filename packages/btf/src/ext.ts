/**
 * `.BTF.ext`, the compiler's side table to `.BTF`: per ELF section, function info (which BTF
 * `Func` starts at which instruction), line info (source position of instructions) and CO-RE
 * relocations. Offsets of instructions are in bytes, as stored; the loader divides by 8.
 */
import {
  BtfFormat,
  CoreReloKind,
  CoreRelo as CoreReloLayout,
  FuncInfo as FuncInfoLayout,
  LineInfo as LineInfoLayout,
  type StructLayout,
} from '@ebpf/uapi';
import type { Btf } from './btf.ts';
import { BtfError } from './error.ts';
import type { TypeId } from './types.ts';

/**
 * `struct btf_ext_header` (libbpf's `libbpf_internal.h`; no uapi header has it). Section offsets
 * count from the end of the header; the CO-RE pair is optional (older compilers stop at 24 bytes).
 */
const ExtHeader = {
  name: 'struct btf_ext_header',
  size: 32,
  fields: {
    magic: { offset: 0, size: 2, type: 'u16' },
    version: { offset: 2, size: 1, type: 'u8' },
    flags: { offset: 3, size: 1, type: 'u8' },
    hdrLen: { offset: 4, size: 4, type: 'u32' },
    funcInfoOff: { offset: 8, size: 4, type: 'u32' },
    funcInfoLen: { offset: 12, size: 4, type: 'u32' },
    lineInfoOff: { offset: 16, size: 4, type: 'u32' },
    lineInfoLen: { offset: 20, size: 4, type: 'u32' },
    coreReloOff: { offset: 24, size: 4, type: 'u32' },
    coreReloLen: { offset: 28, size: 4, type: 'u32' },
  },
} as const satisfies StructLayout;
/** A header that ends before the CO-RE pair. */
const MIN_HEADER = ExtHeader.fields.coreReloOff.offset;

/** A `.BTF.ext` func_info record: which BTF function starts at an instruction. */
export interface FuncInfoRecord {
  /** Byte offset of the function's first instruction in its section. */
  readonly insnOff: number;
  /** The BTF `Func`. */
  readonly typeId: TypeId;
}

/** A `.BTF.ext` line_info record: the source file, line and column of an instruction. */
export interface LineInfoRecord {
  /** Byte offset of the instruction in its section. */
  readonly insnOff: number;
  /** String offsets (in the `.BTF` string table) of the file name and of the source line's text. */
  readonly fileNameOff: number;
  readonly lineOff: number;
  /** Line number (the record's `line_col` above its low 10 bits). */
  readonly line: number;
  /** Column (the low 10 bits of `line_col`). */
  readonly column: number;
}

/** A `.BTF.ext` CO-RE relocation: an instruction to fix up for the running kernel's types. */
export interface CoreReloRecord {
  /** Byte offset of the instruction to fix up in its section. */
  readonly insnOff: number;
  /** The local type the access string starts from. */
  readonly typeId: TypeId;
  /** String offset of the access string. */
  readonly accessStrOff: number;
  /** What to compute: a field offset, size or existence, a type id, an enum value... */
  readonly kind: CoreReloKind;
  /** The access string (`0:1:2`), when the `.BTF` was given to the parser. */
  readonly accessString: string | undefined;
}

/** The records of one ELF section in one of the three tables. */
export interface ExtSection<R> {
  /** The ELF section's name, when the `.BTF` was given to the parser. */
  readonly name: string | undefined;
  readonly nameOff: number;
  readonly records: readonly R[];
}

/** Everything `.BTF.ext` says about one ELF section. */
export interface ExtSectionInfo {
  readonly funcInfo: readonly FuncInfoRecord[];
  readonly lineInfo: readonly LineInfoRecord[];
  readonly coreRelo: readonly CoreReloRecord[];
}

/** Options of {@link BtfExt.parse}. */
export interface ExtParseOptions {
  /** Byte order of the ELF file; by default the one the magic shows (or the `btf`'s). */
  readonly littleEndian?: boolean;
  /** The object's `.BTF`: names sections and access strings, and checks type ids. */
  readonly btf?: Btf;
}

const LAST_RELO_KIND = Math.max(...Object.values(CoreReloKind));
const LINE_SHIFT = 10;
const COLUMN_MASK = (1 << LINE_SHIFT) - 1;

/**
 * A parsed `.BTF.ext` section: func_info, line_info and CO-RE relocations, grouped by ELF
 * section. Parse it with {@link BtfExt.parse}; pass the object's `.BTF` to resolve names.
 */
export class BtfExt {
  /** func_info records, one list per ELF code section. */
  readonly funcInfo: readonly ExtSection<FuncInfoRecord>[];
  /** line_info records, one list per ELF code section. */
  readonly lineInfo: readonly ExtSection<LineInfoRecord>[];
  /** CO-RE relocation records, one list per ELF code section. */
  readonly coreRelo: readonly ExtSection<CoreReloRecord>[];

  private constructor(
    /** Whether the input is little-endian. */
    readonly littleEndian: boolean,
    tables: Pick<BtfExt, 'funcInfo' | 'lineInfo' | 'coreRelo'>,
  ) {
    this.funcInfo = tables.funcInfo;
    this.lineInfo = tables.lineInfo;
    this.coreRelo = tables.coreRelo;
  }

  /** Parses an object's `.BTF.ext` section. */
  static parse(bytes: Uint8Array, options: ExtParseOptions = {}): BtfExt {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const le = byteOrder(v, options.littleEndian ?? options.btf?.littleEndian);
    const H = ExtHeader.fields;
    const version = v.getUint8(H.version.offset);
    if (version !== BtfFormat.Version)
      throw new BtfError(`.BTF.ext version ${version} is not ${BtfFormat.Version}`, H.version.offset);
    const hdrLen = v.getUint32(H.hdrLen.offset, le);
    if (hdrLen < MIN_HEADER || hdrLen > bytes.byteLength)
      throw new BtfError(
        `.BTF.ext header length ${hdrLen} outside ${MIN_HEADER}..${bytes.byteLength}`,
        H.hdrLen.offset,
      );
    const reader = new TableReader(v, le, hdrLen, options.btf);
    const table = <R>(
      off: keyof typeof H,
      len: keyof typeof H,
      layout: StructLayout,
      read: (at: number) => R,
    ): ExtSection<R>[] =>
      // A header too short for a table means the compiler had none to emit.
      H[len].offset + 4 > hdrLen
        ? []
        : reader.table(
            v.getUint32(H[off].offset, le),
            v.getUint32(H[len].offset, le),
            H[off].offset,
            layout,
            read,
          );
    return new BtfExt(le, {
      funcInfo: table('funcInfoOff', 'funcInfoLen', FuncInfoLayout, (at) => reader.funcInfo(at)),
      lineInfo: table('lineInfoOff', 'lineInfoLen', LineInfoLayout, (at) => reader.lineInfo(at)),
      coreRelo: table('coreReloOff', 'coreReloLen', CoreReloLayout, (at) => reader.coreRelo(at)),
    });
  }

  /** The records of the ELF section `name` (needs the `.BTF` at parse time to know names). */
  section(name: string): ExtSectionInfo {
    const find = <R>(sections: readonly ExtSection<R>[]): readonly R[] =>
      sections.find((s) => s.name === name)?.records ?? [];
    return { funcInfo: find(this.funcInfo), lineInfo: find(this.lineInfo), coreRelo: find(this.coreRelo) };
  }
}

function byteOrder(v: DataView, expected: boolean | undefined): boolean {
  const at = ExtHeader.fields.magic.offset;
  if (v.byteLength < MIN_HEADER)
    throw new BtfError(`${v.byteLength} bytes are too few for a .BTF.ext header (${MIN_HEADER})`, 0);
  const le = v.getUint16(at, true) === BtfFormat.Magic;
  if (!le && v.getUint16(at, false) !== BtfFormat.Magic)
    throw new BtfError(`bad .BTF.ext magic 0x${v.getUint16(at, true).toString(16)}`, at);
  if (expected !== undefined && le !== expected)
    throw new BtfError(`.BTF.ext is ${le ? 'little' : 'big'}-endian, its object is not`, at);
  return le;
}

/** Reads the tables of one `.BTF.ext`: `record size, { section name, count, records }*`. */
class TableReader {
  constructor(
    private readonly v: DataView,
    private readonly le: boolean,
    private readonly hdrLen: number,
    private readonly btf: Btf | undefined,
  ) {}

  table<R>(
    off: number,
    len: number,
    at: number,
    layout: StructLayout,
    read: (at: number) => R,
  ): ExtSection<R>[] {
    if (len === 0) return [];
    const start = this.hdrLen + off;
    const end = start + len;
    if (end > this.v.byteLength)
      throw new BtfError(`${layout.name} table at ${off} of ${len} bytes runs past the end`, at);
    if (start % 4 !== 0) throw new BtfError(`${layout.name} table is not 4-byte aligned`, at);
    if (len < 4) throw new BtfError(`${layout.name} table of ${len} bytes has no record size`, start);
    const recordSize = this.u32(start);
    if (recordSize < layout.size || recordSize % 4 !== 0)
      throw new BtfError(
        `${layout.name} records of ${recordSize} bytes (at least ${layout.size}, a multiple of 4)`,
        start,
      );
    const sections: ExtSection<R>[] = [];
    for (let p = start + 4; p < end; ) {
      if (p + 8 > end) throw new BtfError(`${layout.name} section header runs past its table`, p);
      const nameOff = this.u32(p);
      const count = this.u32(p + 4);
      if (count === 0) throw new BtfError(`${layout.name} section has no records`, p + 4);
      if (count > (end - p - 8) / recordSize)
        throw new BtfError(`${count} ${layout.name} records run past their table`, p + 4);
      const name = this.btf?.str(nameOff, p);
      const records: R[] = new Array(count);
      for (let i = 0, r = p + 8; i < count; i++, r += recordSize) records[i] = read(r);
      sections.push({ name, nameOff, records });
      p += 8 + count * recordSize;
    }
    return sections;
  }

  funcInfo(at: number): FuncInfoRecord {
    const F = FuncInfoLayout.fields;
    return { insnOff: this.u32(at + F.insnOff.offset), typeId: this.typeId(at + F.typeId.offset) };
  }

  lineInfo(at: number): LineInfoRecord {
    const L = LineInfoLayout.fields;
    const lineCol = this.u32(at + L.lineCol.offset);
    return {
      insnOff: this.u32(at + L.insnOff.offset),
      fileNameOff: this.u32(at + L.fileNameOff.offset),
      lineOff: this.u32(at + L.lineOff.offset),
      line: lineCol >>> LINE_SHIFT,
      column: lineCol & COLUMN_MASK,
    };
  }

  coreRelo(at: number): CoreReloRecord {
    const C = CoreReloLayout.fields;
    const kind = this.u32(at + C.kind.offset);
    if (kind > LAST_RELO_KIND)
      throw new BtfError(`unknown CO-RE relocation kind ${kind}`, at + C.kind.offset);
    const accessStrOff = this.u32(at + C.accessStrOff.offset);
    return {
      insnOff: this.u32(at + C.insnOff.offset),
      typeId: this.typeId(at + C.typeId.offset),
      accessStrOff,
      kind: kind as CoreReloKind,
      accessString: this.btf?.str(accessStrOff, at + C.accessStrOff.offset),
    };
  }

  private typeId(at: number): TypeId {
    const id = this.u32(at);
    if (this.btf && id >= this.btf.nextId)
      throw new BtfError(`refers to type id ${id}, past the last of its .BTF (${this.btf.nextId - 1})`, at);
    return id;
  }

  private u32(at: number): number {
    return this.v.getUint32(at, this.le);
  }
}
