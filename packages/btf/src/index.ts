/**
 * BTF, the BPF Type Format, in pure TypeScript (no Node-only import): parse raw and split BTF of
 * either byte order, and query its types by id and name.
 *
 * @packageDocumentation
 */
export { Btf, type ParseOptions } from './btf.ts';
export * from './core/index.ts';
export { BtfError } from './error.ts';
export * from './types.ts';
