/** ELF constants from the System V gABI and the BPF psABI (facts, named as `elf.h` names them). */

export const ELFCLASS64 = 2;
/** `e_ident[EI_DATA]`: little-endian. */
export const ELFDATA2LSB = 1;
/** `e_ident[EI_DATA]`: big-endian. */
export const ELFDATA2MSB = 2;

/** `e_type`: a relocatable object (what clang writes for BPF). */
export const ET_REL = 1;
/** `e_type`: an executable. */
export const ET_EXEC = 2;
/** `e_type`: a shared object or position-independent executable. */
export const ET_DYN = 3;

/** `e_machine`: x86-64. */
export const EM_X86_64 = 62;
/** `e_machine`: 64-bit Arm. */
export const EM_AARCH64 = 183;
/** `e_machine`: eBPF. */
export const EM_BPF = 247;

/** `sh_type`: an unused section header. */
export const SHT_NULL = 0;
/** `sh_type`: code or data stored in the file. */
export const SHT_PROGBITS = 1;
/** `sh_type`: the symbol table. */
export const SHT_SYMTAB = 2;
/** `sh_type`: a string table. */
export const SHT_STRTAB = 3;
/** `sh_type`: relocations with explicit addends. */
export const SHT_RELA = 4;
/** `sh_type`: data not stored in the file (`.bss`). */
export const SHT_NOBITS = 8;
/** `sh_type`: notes (build id, USDT probes). */
export const SHT_NOTE = 7;
/** `sh_type`: relocations without addends (what BPF objects use). */
export const SHT_REL = 9;
/** `sh_type`: the dynamic symbol table. */
export const SHT_DYNSYM = 11;

/** `sh_flags`: writable at run time. */
export const SHF_WRITE = 0x1;
/** `sh_flags`: occupies memory at run time. */
export const SHF_ALLOC = 0x2;
/** `sh_flags`: holds instructions. */
export const SHF_EXECINSTR = 0x4;

/** Section index of an undefined symbol (an extern). */
export const SHN_UNDEF = 0;
/** First reserved section index. */
export const SHN_LORESERVE = 0xff00;
/** Section index of an absolute symbol. */
export const SHN_ABS = 0xfff1;
/** Section index of a common (unallocated) symbol. */
export const SHN_COMMON = 0xfff2;
/** Section index that says the real index is in `SHT_SYMTAB_SHNDX`. */
export const SHN_XINDEX = 0xffff;

/** Symbol type: unspecified. */
export const STT_NOTYPE = 0;
/** Symbol type: a data object (a variable, a map). */
export const STT_OBJECT = 1;
/** Symbol type: a function. */
export const STT_FUNC = 2;
/** Symbol type: a section. */
export const STT_SECTION = 3;
/** Symbol type: the source file name. */
export const STT_FILE = 4;
/** Symbol type: a GNU indirect function. */
export const STT_GNU_IFUNC = 10;

/** Symbol binding: local to the object. */
export const STB_LOCAL = 0;
/** Symbol binding: global. */
export const STB_GLOBAL = 1;
/** Symbol binding: weak (may be overridden or missing). */
export const STB_WEAK = 2;

/** Symbol visibility: internal (hidden, and no calls from outside through pointers either). */
export const STV_INTERNAL = 1;
/** Symbol visibility: hidden (`__hidden`), not seen outside the linked object. */
export const STV_HIDDEN = 2;

/** `p_type`: a loadable segment. */
export const PT_LOAD = 1;

/** Relocation types of the BPF psABI (llvm/BinaryFormat/ELFRelocs/BPF.def). */
export const R_BPF_NONE = 0;
/** Relocation: a 64-bit immediate of `ld_imm64` (maps, globals). */
export const R_BPF_64_64 = 1;
/** Relocation: a 64-bit absolute data word. */
export const R_BPF_64_ABS64 = 2;
/** Relocation: a 32-bit absolute data word (DWARF, `.BTF.ext`). */
export const R_BPF_64_ABS32 = 3;
/** Relocation: a 32-bit data word the dynamic loader leaves alone (`.BTF.ext`). */
export const R_BPF_64_NODYLD32 = 4;
/** Relocation: the 32-bit immediate of a call (subprogram or kfunc). */
export const R_BPF_64_32 = 10;

/** Bytes of an ELF64 file header. */
export const ELF64_EHDR_SIZE = 64;
/** Bytes of an ELF64 section header. */
export const ELF64_SHDR_SIZE = 64;
/** Bytes of an ELF64 program header. */
export const ELF64_PHDR_SIZE = 56;
/** Bytes of an ELF64 symbol. */
export const ELF64_SYM_SIZE = 24;
/** Bytes of an ELF64 relocation without addend. */
export const ELF64_REL_SIZE = 16;
/** Bytes of an ELF64 relocation with addend. */
export const ELF64_RELA_SIZE = 24;
