import { decodeName, encodeName } from '@ebpf/btf';
import { ObjectError } from '../errors.ts';
import { type Bytes, type ElfSource, Image } from './bytes.ts';
import {
  ELF64_EHDR_SIZE,
  ELF64_PHDR_SIZE,
  ELF64_REL_SIZE,
  ELF64_RELA_SIZE,
  ELF64_SHDR_SIZE,
  ELF64_SYM_SIZE,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFDATA2MSB,
  SHN_XINDEX,
  SHT_DYNSYM,
  SHT_NOBITS,
  SHT_NOTE,
  SHT_NULL,
  SHT_REL,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
} from './constants.ts';

/** One section header, with its name resolved. */
export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: bigint;
  readonly addr: bigint;
  /** File offset of the contents (meaningless for SHT_NOBITS). */
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
}

/** One symbol of `.symtab` or `.dynsym`. */
export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  readonly value: bigint;
  readonly size: bigint;
  /** `STT_*`. */
  readonly type: number;
  /** `STB_*`. */
  readonly binding: number;
  /** `STV_*`. */
  readonly visibility: number;
  /** Index of the section the symbol is defined in, or a reserved `SHN_*` value. */
  readonly sectionIndex: number;
}

/** One program header: a segment of an executable or shared object as it is mapped. */
export interface ElfSegment {
  /** `PT_LOAD`, ... */
  readonly type: number;
  /** `PF_X`, `PF_W`, `PF_R` bits. */
  readonly flags: number;
  /** File offset of the segment's first byte. */
  readonly offset: number;
  /** Virtual address it is mapped at (before any load bias). */
  readonly vaddr: bigint;
  readonly fileSize: number;
  readonly memorySize: number;
}

/** One entry of a REL or RELA section. */
export interface ElfRelocation {
  /** Byte offset in the section the relocation applies to. */
  readonly offset: number;
  /** Index into the symbol table the relocation section links to. */
  readonly symbol: number;
  /** `R_*` type of the machine (`R_BPF_64_64`, ...). */
  readonly type: number;
  /** The explicit addend of RELA entries; REL entries keep it in the relocated bytes. */
  readonly addend: bigint | undefined;
}

/** One note of an SHT_NOTE section. */
export interface ElfNote {
  readonly name: string;
  readonly type: number;
  readonly desc: Uint8Array;
}

/**
 * An ELF64 file of either byte order, read eagerly for its headers and lazily for symbols,
 * relocations and notes. Every inconsistency is an {@link ObjectError} naming where it is.
 */
export class ElfFile {
  readonly littleEndian: boolean;
  /** `ET_REL`, `ET_EXEC`, `ET_DYN`, ... */
  readonly type: number;
  /** `EM_BPF`, `EM_X86_64`, ... */
  readonly machine: number;
  readonly sections: readonly ElfSection[];
  private readonly image: Image;
  /** Where the program headers are: `e_phoff`, `e_phentsize`, `e_phnum`. */
  private readonly programHeaders: { readonly offset: number; readonly size: number; readonly count: number };
  /** Section index → its contents, once read. */
  private readonly contents: (Bytes | undefined)[] = [];
  private readonly byName = new Map<string, ElfSection>();

  private constructor(image: Image, header: Bytes, sections: ElfSection[]) {
    this.image = image;
    const type = header.u16(16);
    const machine = header.u16(18);
    this.programHeaders = {
      offset: header.size64(32, 'e_phoff'),
      size: header.u16(54),
      count: header.u16(56),
    };
    this.littleEndian = image.little;
    this.type = type;
    this.machine = machine;
    this.sections = sections;
    for (const section of sections)
      if (!this.byName.has(section.name)) this.byName.set(section.name, section);
  }

  /** Reads the ELF header and section headers of `image`. */
  static parse(image: Uint8Array): ElfFile {
    // Read through a plain Uint8Array: a Buffer's sections would be Buffers, whose slice() shares
    // memory, and code relocated in a "copy" would be relocated in the caller's bytes.
    const bytes =
      image.constructor === Uint8Array ? image : new Uint8Array(image.buffer, image.byteOffset, image.length);
    return ElfFile.read(bytes.length, (offset, length) => bytes.subarray(offset, offset + length));
  }

  /**
   * Reads the ELF header and section headers from `source`, and later only the contents of the
   * sections asked for (a uprobe's symbol lookup in a 100 MB binary reads a few MB).
   */
  static open(source: ElfSource): ElfFile {
    return ElfFile.read(source.size, (offset, length) => source.read(offset, length));
  }

  private static read(size: number, read: (offset: number, length: number) => Uint8Array): ElfFile {
    const ident = read(0, Math.min(size, 16));
    if (
      ident.length < 16 ||
      ident[0] !== 0x7f ||
      ident[1] !== 0x45 ||
      ident[2] !== 0x4c ||
      ident[3] !== 0x46
    ) {
      throw new ObjectError('not an ELF file: the first bytes are not 0x7f "ELF"', { offset: 0 });
    }
    if (ident[4] !== ELFCLASS64) {
      throw new ObjectError(
        `ELF class ${ident[4]} is not supported; only ELFCLASS64 objects can be read (build with clang -target bpf)`,
        {
          offset: 4,
        },
      );
    }
    if (ident[5] !== ELFDATA2LSB && ident[5] !== ELFDATA2MSB) {
      throw new ObjectError(`unknown ELF byte order ${ident[5]}; expected 1 (little) or 2 (big endian)`, {
        offset: 5,
      });
    }
    const image = new Image(size, ident[5] === ELFDATA2LSB, read);
    const header = image.at(0, ELF64_EHDR_SIZE, 'the ELF header');
    return new ElfFile(image, header, readSections(image, header));
  }

  /** The program headers (none in a relocatable object), read on each call. */
  segments(): ElfSegment[] {
    const { offset, size, count } = this.programHeaders;
    if (count === 0 || offset === 0) return [];
    if (size !== ELF64_PHDR_SIZE) {
      throw new ObjectError(`program header size ${size} is not the ELF64 size ${ELF64_PHDR_SIZE}`, {
        offset: 54,
      });
    }
    const b = this.image.at(offset, count * size, `${count} program headers`);
    const out: ElfSegment[] = [];
    for (let i = 0; i < count; i++) {
      const at = i * size;
      out.push({
        type: b.u32(at),
        flags: b.u32(at + 4),
        offset: b.size64(at + 8, 'p_offset'),
        vaddr: b.u64(at + 16),
        fileSize: b.size64(at + 32, 'p_filesz'),
        memorySize: b.size64(at + 40, 'p_memsz'),
      });
    }
    return out;
  }

  /** The first section called `name`. */
  section(name: string): ElfSection | undefined {
    return this.byName.get(name);
  }

  /** The contents of `section` (empty for SHT_NOBITS); a view, not a copy. */
  data(section: ElfSection): Uint8Array {
    if (section.type === SHT_NOBITS) return new Uint8Array(0);
    return this.contentsOf(section).bytes;
  }

  /** The `.symtab` symbols (index 0, the null symbol, included so indices match). */
  symbols(): ElfSymbol[] {
    return this.symbolTable(SHT_SYMTAB);
  }

  /** The `.dynsym` symbols of an executable or shared object. */
  dynamicSymbols(): ElfSymbol[] {
    return this.symbolTable(SHT_DYNSYM);
  }

  /**
   * The symbols called `name` in `.symtab` (or `.dynsym` with `dynamic`), found by comparing name
   * bytes in place: an executable's 100,000 symbols are not decoded to find one.
   */
  symbolsNamed(name: string, dynamic = false): ElfSymbol[] {
    const bytes = encodeName(name);
    return bytes === undefined ? [] : this.symbolTable(dynamic ? SHT_DYNSYM : SHT_SYMTAB, bytes);
  }

  /** The entries of a REL or RELA section. */
  relocations(section: ElfSection): ElfRelocation[] {
    const rela = section.type === SHT_RELA;
    if (!rela && section.type !== SHT_REL) {
      throw new ObjectError(`is not a relocation section (type ${section.type})`, { section: section.name });
    }
    const entry = rela ? ELF64_RELA_SIZE : ELF64_REL_SIZE;
    const count = entries(section, entry);
    const b = this.contentsOf(section);
    const out: ElfRelocation[] = new Array(count);
    // r_info is (symbol << 32) | type: its two 32-bit halves, in the file's byte order.
    const symbolAt = b.little ? 12 : 8;
    const typeAt = b.little ? 8 : 12;
    for (let i = 0; i < count; i++) {
      const at = i * entry;
      out[i] = {
        offset: b.size64(at, 'relocation offset', section.name),
        symbol: b.u32(at + symbolAt),
        type: b.u32(at + typeAt),
        addend: rela ? b.i64(at + 16) : undefined,
      };
    }
    return out;
  }

  /** The notes of an SHT_NOTE section. */
  notes(section: ElfSection): ElfNote[] {
    if (section.type !== SHT_NOTE) {
      throw new ObjectError(`is not a note section (type ${section.type})`, { section: section.name });
    }
    const b = this.contentsOf(section);
    const align = section.addralign === 8 ? 8 : 4;
    const end = section.size;
    const out: ElfNote[] = [];
    let at = 0;
    while (at < end) {
      if (at + 12 > end)
        throw new ObjectError('note header is cut off by the end of the section', {
          offset: b.base + at,
          section: section.name,
        });
      const nameSize = b.u32(at);
      const descSize = b.u32(at + 4);
      const type = b.u32(at + 8);
      const nameAt = at + 12;
      const descAt = nameAt + roundUp(nameSize, align);
      const next = descAt + roundUp(descSize, align);
      if (descAt + descSize > end) {
        throw new ObjectError(`note of ${nameSize}+${descSize} bytes runs past the end of the section`, {
          offset: b.base + at,
          section: section.name,
        });
      }
      const nameBytes = b.bytes.subarray(nameAt, nameAt + nameSize);
      const nul = nameBytes.indexOf(0);
      out.push({
        name: decodeName(nameBytes, 0, nul < 0 ? nameBytes.length : nul),
        type,
        desc: b.bytes.subarray(descAt, descAt + descSize),
      });
      at = next;
    }
    return out;
  }

  /** A NUL-terminated string at `offset` of the string table section `index`. */
  string(index: number, offset: number): string {
    const table = this.sections[index];
    if (table === undefined || table.type !== SHT_STRTAB) {
      throw new ObjectError(`string table ${index} does not exist or is not SHT_STRTAB`, {});
    }
    return readString(this.contentsOf(table), table.name, offset);
  }

  /** The contents of a section that has some (not SHT_NOBITS), read on first use. */
  private contentsOf(section: ElfSection): Bytes {
    let bytes = this.contents[section.index];
    if (bytes === undefined) {
      bytes = this.image.at(section.offset, section.size, 'section contents', section.name);
      this.contents[section.index] = bytes;
    }
    return bytes;
  }

  private symbolTable(kind: number, only?: Uint8Array): ElfSymbol[] {
    const table = this.sections.find((s) => s.type === kind);
    if (table === undefined) return [];
    const names = this.sections[table.link];
    if (names === undefined || names.type !== SHT_STRTAB) {
      throw new ObjectError(`links to section ${table.link}, which is not a string table`, {
        section: table.name,
      });
    }
    const count = entries(table, ELF64_SYM_SIZE);
    const b = this.contentsOf(table);
    const strings = this.contentsOf(names);
    const out: ElfSymbol[] = [];
    for (let i = 0; i < count; i++) {
      const at = i * ELF64_SYM_SIZE;
      if (only !== undefined && !namedAt(strings.bytes, b.u32(at), only)) continue;
      const info = b.u8(at + 4);
      out.push({
        index: i,
        name: readString(strings, names.name, b.u32(at)),
        type: info & 0xf,
        binding: info >> 4,
        visibility: b.u8(at + 5) & 0x3,
        sectionIndex: b.u16(at + 6),
        value: b.u64(at + 8),
        size: b.u64(at + 16),
      });
    }
    return out;
  }
}

/** Whether the string at `offset` of the string table `table` is exactly `name`. */
function namedAt(table: Uint8Array, offset: number, name: Uint8Array): boolean {
  if (offset + name.length >= table.length) return false;
  if (table[offset + name.length] !== 0) return false;
  for (let i = 0; i < name.length; i++) if (table[offset + i] !== name[i]) return false;
  return true;
}

function roundUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

/** How many `entry`-byte records `section` holds; a size that is not a multiple is corrupt. */
function entries(section: ElfSection, entry: number): number {
  if (section.type === SHT_NOBITS)
    throw new ObjectError('has no contents (SHT_NOBITS) but must hold a table', { section: section.name });
  if (section.entsize !== 0 && section.entsize !== entry) {
    throw new ObjectError(`entry size ${section.entsize} is not the ELF64 size ${entry}`, {
      section: section.name,
    });
  }
  if (section.size % entry !== 0) {
    throw new ObjectError(`size ${section.size} is not a multiple of its entry size ${entry}`, {
      section: section.name,
    });
  }
  return section.size / entry;
}

/** The NUL-terminated string at `offset` of a string table's contents `table`. */
function readString(table: Bytes, name: string, offset: number): string {
  const size = table.bytes.length;
  if (offset >= size) {
    throw new ObjectError(`string offset ${offset} is past the end of the string table (${size} bytes)`, {
      section: name,
    });
  }
  const end = table.bytes.indexOf(0, offset);
  if (end < 0)
    throw new ObjectError('string is not NUL-terminated inside its table', {
      offset: table.base + offset,
      section: name,
    });
  return decodeName(table.bytes, offset, end);
}

/** A section header as read, named once the name table is known. */
type RawSection = { -readonly [K in keyof ElfSection]: ElfSection[K] };

function readSections(image: Image, header: Bytes): ElfSection[] {
  const shoff = header.size64(40, 'e_shoff');
  const shentsize = header.u16(58);
  let shnum = header.u16(60);
  let shstrndx = header.u16(62);
  if (shoff === 0) return [];
  if (shentsize !== ELF64_SHDR_SIZE) {
    throw new ObjectError(`section header size ${shentsize} is not the ELF64 size ${ELF64_SHDR_SIZE}`, {
      offset: 58,
    });
  }
  const first = image.at(shoff, ELF64_SHDR_SIZE, 'the first section header');
  // More than SHN_LORESERVE sections, or a name table index past it, live in section 0.
  if (shnum === 0) shnum = first.size64(32, 'section count in section 0');
  if (shstrndx === SHN_XINDEX) shstrndx = first.u32(40);
  const headers = image.at(shoff, shnum * ELF64_SHDR_SIZE, `${shnum} section headers`);
  const raw: RawSection[] = [];
  for (let index = 0; index < shnum; index++) {
    const at = index * ELF64_SHDR_SIZE;
    const section: RawSection = {
      index,
      // Named below, once the name table is known.
      name: '',
      type: headers.u32(at + 4),
      flags: headers.u64(at + 8),
      addr: headers.u64(at + 16),
      offset: headers.size64(at + 24, 'sh_offset', index),
      size: headers.size64(at + 32, 'sh_size', index),
      link: headers.u32(at + 40),
      info: headers.u32(at + 44),
      addralign: headers.size64(at + 48, 'sh_addralign', index),
      entsize: headers.size64(at + 56, 'sh_entsize', index),
    };
    // Section 0 is SHT_NULL and may carry the section count in sh_size instead of contents.
    if (section.type !== SHT_NOBITS && section.type !== SHT_NULL) {
      image.check(section.offset, section.size, 'section contents', index);
    }
    raw.push(section);
  }
  if (raw.length === 0) return [];
  if (shstrndx >= raw.length) {
    throw new ObjectError(`section name table index ${shstrndx} is past the ${raw.length} sections`, {
      offset: 62,
    });
  }
  const names = raw[shstrndx] as RawSection;
  if (names.type !== SHT_STRTAB) {
    throw new ObjectError(`section name table (#${shstrndx}) is not SHT_STRTAB`, { offset: 62 });
  }
  const strings = image.at(names.offset, names.size, 'section name table');
  const where = `#${shstrndx}`;
  for (const section of raw)
    if (section.index !== 0)
      section.name = readString(strings, where, headers.u32(section.index * ELF64_SHDR_SIZE));
  return raw;
}
