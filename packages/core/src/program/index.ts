export type { FuncInfoRecord, LineInfoRecord, ProgramBtf } from './btf-info.ts';
export type { MapLike, ProgramInstructions } from './instructions.ts';
export { kernelFunctionId } from './kernel-btf.ts';
export { type LogLevel, maxLogSize } from './load.ts';
export {
  BpfProgram,
  type ProgramInfo,
  type ProgramLoadOptions,
  type RunOptions,
  type RunResult,
  StatsHandle,
} from './program.ts';
export type { ProgramFunction } from './replace-target.ts';
export { TestRunner, type TestRunnerOptions } from './test-run.ts';
export {
  type AttachTypeLike,
  type AttachTypeName,
  attachTypeName,
  type ProgramTypeLike,
  type ProgramTypeName,
  programTypeName,
  resolveAttachType,
  resolveProgramType,
} from './types.ts';
export { VerifierError } from './verifier-error.ts';
export { parseVerifierLog, type VerifierLogSummary } from './verifier-log.ts';
