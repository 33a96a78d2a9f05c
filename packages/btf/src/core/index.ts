export type { Candidate } from './candidates.ts';
export { CoreError } from './error.ts';
export { type CoreFixup, type CoreRelocationRecord, CoreResolver, coreFixup } from './fixup.ts';
export { essentialName } from './names.ts';
