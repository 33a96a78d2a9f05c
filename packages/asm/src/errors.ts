/**
 * Every error `@ebpf/asm` throws is an {@link AsmError}; the subclasses say which stage
 * refused the input and carry where (an instruction field, a label, a line and column, a byte
 * offset), so callers can point at the problem instead of parsing a message.
 */
export class AsmError extends Error {
  override name = 'AsmError';
}

/** An instruction that cannot be encoded as asked: a field out of range or a form the ISA lacks. */
export class InvalidInstructionError extends AsmError {
  override name = 'InvalidInstructionError';
  /** The instruction field at fault (`dst`, `src`, `off`, `imm`, `op`, ...), when one is. */
  readonly field: string | undefined;
  /** Index of the instruction in its list, when known. */
  readonly index: number | undefined;

  constructor(message: string, options: { field?: string; index?: number } = {}) {
    super(options.index === undefined ? message : `instruction ${options.index}: ${message}`);
    this.field = options.field;
    this.index = options.index;
  }
}

/** Linking failed: an unknown or duplicate label, or a jump whose offset does not fit its field. */
export class LinkError extends AsmError {
  override name = 'LinkError';
  /** The label at fault. */
  readonly label: string;
  /** Index of the instruction that refers to it, when there is one. */
  readonly index: number | undefined;

  constructor(message: string, label: string, index?: number) {
    super(message);
    this.label = label;
    this.index = index;
  }
}

/** Assembly text that does not parse; `line` and `column` are 1-based. */
export class AssembleError extends AsmError {
  override name = 'AssembleError';
  readonly line: number;
  readonly column: number;
  /** The offending source line, verbatim. */
  readonly source: string;
  /** The message without the position prefix. */
  readonly reason: string;

  constructor(reason: string, line: number, column: number, source: string) {
    super(`${line}:${column}: ${reason}\n  ${source}\n  ${' '.repeat(Math.max(0, column - 1))}^`);
    this.reason = reason;
    this.line = line;
    this.column = column;
    this.source = source;
  }
}

/** Bytes that are not a valid instruction stream; `offset` is the byte offset of the bad instruction. */
export class DecodeError extends AsmError {
  override name = 'DecodeError';
  readonly offset: number;
  readonly reason: string;

  constructor(reason: string, offset: number) {
    super(`at byte offset ${offset} (instruction ${offset >> 3}): ${reason}`);
    this.reason = reason;
    this.offset = offset;
  }
}
