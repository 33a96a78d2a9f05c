export { type CollectionParseOptions, CollectionSpec } from './collection-spec.ts';
export * from './elf/constants.ts';
export type { ElfNote, ElfRelocation, ElfSection, ElfSymbol } from './elf/elf.ts';
export { ElfFile } from './elf/elf.ts';
export type { FunctionSymbol } from './elf/functions.ts';
export { findFunctionSymbol } from './elf/functions.ts';
export { ObjectError, type Where } from './errors.ts';
export { globalMapName } from './globals.ts';
export { btfSection } from './object-file.ts';
export {
  type ApplyCoreOptions,
  applyCoreRelocations,
  CORE_POISON_HELPER,
  CoreRelocationError,
} from './relocate/core.ts';
export { programSection, type SectionKind } from './sections.ts';
export type * from './spec.ts';
