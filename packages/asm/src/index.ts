/**
 * `@ebpf/asm`: eBPF instructions as data. Builders (`mov64(R0, 1)`), labels and symbolic map
 * references, a linker, an encoder and decoder, an LLVM-syntax assembler and disassembler, and
 * the kernel's program tag. Pure TypeScript, no Node-only imports: it runs in browsers too.
 *
 * @example
 * ```ts
 * import { assemble, disassemble, exit, link, mov64, R0 } from '@ebpf/asm';
 *
 * const program = link([mov64(R0, 2), exit()]); // XDP_PASS
 * const bytes = program.encode(); // what BPF_PROG_LOAD takes
 * disassemble(bytes); // 'r0 = 0x2\nexit\n'
 * assemble('r0 = 0x2\nexit'); // the same bytes
 * ```
 *
 * @packageDocumentation
 */

/** The opcode groups and helper ids, re-exported from `@ebpf/uapi` for builders' arguments. */
export {
  AluOp,
  AtomicOp,
  EndianSource,
  FuncId,
  InsnClass,
  InsnMode,
  InsnSize,
  InsnSource,
  JmpOp,
  PseudoCall,
  PseudoSrc,
} from '@ebpf/uapi';
export * from './alu.ts';
export { type AssembleOptions, assemble, assembleProgram, parse } from './assemble.ts';
export * from './atomic.ts';
export { imm64, makeInstruction, type Symbolic, withMeta } from './build.ts';
export * from './call.ts';
export { checkBytecode, decode } from './decode.ts';
export { type DisassembleOptions, disassemble, formatInstruction } from './disassemble.ts';
export { elfObjectReason, isElfObject } from './elf-object.ts';
export {
  type ByteOrder,
  type CodecOptions,
  type EncodeIntoOptions,
  encode,
  encodedLength,
  encodeInto,
  type HasInstructions,
} from './encode.ts';
export * from './errors.ts';
export {
  checkInstruction,
  type Instruction,
  type Item,
  isLabel,
  isLddw,
  type Label,
  type Metadata,
  slots,
} from './instruction.ts';
export * from './jump.ts';
export * from './ld64.ts';
export { func, label } from './link.ts';
export * from './memory.ts';
export {
  type KfuncAddress,
  link,
  Program,
  type Reference,
  type ResolveMapsOptions,
  references,
  resolveKfuncs,
  resolveMaps,
} from './program.ts';
export * from './registers.ts';
export { sha1 } from './sha1.ts';
export { sha256 } from './sha256.ts';
export { matchesTag, programTag, type TagAlgorithm } from './tag.ts';
