/**
 * BTF, the BPF Type Format, in pure TypeScript (no Node-only import): parse raw and split BTF of
 * either byte order and their `.BTF.ext`, and query its types by id and name.
 *
 * @packageDocumentation
 */
export { Btf, type ParseOptions } from './btf.ts';
export { BtfBuilder, type BuilderOptions, type MarshalOptions, type NewType } from './builder.ts';
export { BtfError } from './error.ts';
export {
  BtfExt,
  type CoreReloRecord,
  type ExtParseOptions,
  type ExtSection,
  type ExtSectionInfo,
  type FuncInfoRecord,
  type LineInfoRecord,
} from './ext.ts';
export type { CDumpOptions } from './format/c.ts';
export {
  type TsAliasDeclaration,
  type TsDeclaration,
  type TsEnumDeclaration,
  type TsField,
  type TsRecordDeclaration,
  type TsValue,
  type TypeScriptOptions,
  type TypeScriptOutput,
  toTypeScript,
} from './format/typescript.ts';
export type { StringTable } from './string-table.ts';
export * from './types.ts';
