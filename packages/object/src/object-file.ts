/**
 * An ELF object read the way libbpf reads it: its sections sorted into the roles libbpf gives
 * them (code, `.maps`, legacy `maps`, global data, license, version), its symbols, its BTF and
 * the relocations of each section. Every later stage (code, maps, globals, externs) asks here.
 */
import { Btf, BtfExt } from '@ebpf/btf';
import {
  SHF_EXECINSTR,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_REL,
  STT_OBJECT,
} from './elf/constants.ts';
import type { ElfFile, ElfRelocation, ElfSection, ElfSymbol } from './elf/elf.ts';
import { ObjectError } from './errors.ts';

/** What a section is to the loader. */
export type SectionRole = 'code' | 'btf_maps' | 'legacy_maps' | 'data' | 'license' | 'version' | 'other';

export class ObjectFile {
  readonly symbols: readonly ElfSymbol[];
  /** The object's `.BTF`, when clang was run with `-g`. */
  readonly btf: Btf | undefined;
  /** Its `.BTF.ext`: func_info, line_info and CO-RE relocations per code section. */
  readonly ext: BtfExt | undefined;
  private readonly roles: SectionRole[];
  private readonly relocationsOf = new Map<number, ElfSection>();

  constructor(readonly elf: ElfFile) {
    this.symbols = elf.symbols();
    this.roles = elf.sections.map(roleOf);
    for (const section of elf.sections) {
      if (section.type !== SHT_REL) continue;
      if (section.info >= elf.sections.length)
        throw new ObjectError(`relocates section ${section.info}, which does not exist`, {
          section: section.name,
        });
      this.relocationsOf.set(section.info, section);
    }
    this.btf = readBtf(elf);
    this.ext = readExt(elf, this.btf);
  }

  role(section: ElfSection): SectionRole {
    return this.roles[section.index] ?? 'other';
  }

  /** Sections of one role, in file order. */
  sectionsOf(role: SectionRole): ElfSection[] {
    return this.elf.sections.filter((section) => this.roles[section.index] === role);
  }

  /** The relocations applying to `section` (from its `.rel<name>` section). */
  relocations(section: ElfSection): ElfRelocation[] {
    const rel = this.relocationsOf.get(section.index);
    return rel === undefined ? [] : this.elf.relocations(rel);
  }

  /** The section a symbol is defined in; undefined for externs and reserved indices. */
  sectionOf(symbol: ElfSymbol): ElfSection | undefined {
    if (symbol.sectionIndex === SHN_UNDEF || symbol.sectionIndex >= SHN_LORESERVE) return undefined;
    return this.elf.sections[symbol.sectionIndex];
  }

  /** The named object symbol at `offset` of `section` (a map's or variable's definition). */
  objectAt(section: ElfSection, offset: number): ElfSymbol | undefined {
    return this.symbols.find(
      (s) =>
        s.sectionIndex === section.index && s.type === STT_OBJECT && Number(s.value) === offset && s.name,
    );
  }
}

function roleOf(section: ElfSection): SectionRole {
  const { name } = section;
  if (name === 'license') return 'license';
  if (name === 'version') return 'version';
  if (name === '.maps') return 'btf_maps';
  if (name === 'maps' || name.startsWith('maps/')) return 'legacy_maps';
  if (section.type === SHT_NOBITS) return name === '.bss' || name.startsWith('.bss.') ? 'data' : 'other';
  if (section.type !== SHT_PROGBITS || section.size === 0) return 'other';
  if ((section.flags & BigInt(SHF_EXECINSTR)) !== 0n) return 'code';
  return isDataName(name) ? 'data' : 'other';
}

const isDataName = (name: string): boolean =>
  name === '.data' || name === '.rodata' || name.startsWith('.data.') || name.startsWith('.rodata.');

/** The `.BTF` section each object's `Btf` was parsed from (its types are read lazily from these bytes). */
const btfSections = new WeakMap<Btf, Uint8Array>();

/**
 * The raw `.BTF` section `btf` was parsed from, when it is an object's: a loader can patch these
 * bytes for the kernel instead of marshalling every type again.
 */
export function btfSection(btf: Btf): Uint8Array | undefined {
  return btfSections.get(btf);
}

function readBtf(elf: ElfFile): Btf | undefined {
  return parseSection(elf, '.BTF', (bytes) => {
    const btf = Btf.parse(bytes);
    btfSections.set(btf, bytes);
    return btf;
  });
}

function readExt(elf: ElfFile, btf: Btf | undefined): BtfExt | undefined {
  if (btf === undefined) return undefined;
  return parseSection(elf, '.BTF.ext', (bytes) =>
    BtfExt.parse(bytes, { btf, littleEndian: elf.littleEndian }),
  );
}

function parseSection<T>(elf: ElfFile, name: string, parse: (bytes: Uint8Array) => T): T | undefined {
  const section = elf.section(name);
  if (section === undefined) return undefined;
  try {
    return parse(elf.data(section));
  } catch (cause) {
    throw new ObjectError(`is not valid: ${(cause as Error).message}`, { section: name }, { cause });
  }
}
