/**
 * `@ebpf/object`: ELF objects built by clang for BPF, read into a {@link CollectionSpec} of plain
 * data: programs with their subprograms linked and maps, globals, externs and CO-RE relocated;
 * maps, variables and externs with their BTF. Pure TypeScript, no Node-only imports.
 *
 * @packageDocumentation
 */
export { type CollectionParseOptions, CollectionSpec } from './collection-spec.ts';
export type { ElfSource } from './elf/bytes.ts';
export * from './elf/constants.ts';
export type { ElfNote, ElfRelocation, ElfSection, ElfSegment, ElfSymbol } from './elf/elf.ts';
export { ElfFile } from './elf/elf.ts';
export type { FunctionSymbol } from './elf/functions.ts';
export { findFunctionSymbol } from './elf/functions.ts';
export { type UsdtNote, usdtNotes } from './elf/usdt.ts';
export { ObjectError, type Where } from './errors.ts';
export { globalMapName } from './globals.ts';
export { btfSection } from './object-file.ts';
export { BytecodeCopies, type ProgramBytecode, programBytecode } from './program-code.ts';
export {
  type ApplyCoreOptions,
  applyCoreRelocations,
  CORE_POISON_HELPER,
  CoreRelocationError,
} from './relocate/core.ts';
export { programSection, type SectionKind } from './sections.ts';
export type * from './spec.ts';
