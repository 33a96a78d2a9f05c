/**
 * Every error `@ebpf/object` throws is an {@link ObjectError}. It names where in the object the
 * problem is (a byte offset, a section, a program and instruction) so a user can find it with
 * `readelf` or `llvm-objdump`.
 */
export class ObjectError extends Error {
  override name = 'ObjectError';
  /** Byte offset in the ELF file at fault, when there is one. */
  readonly offset: number | undefined;
  /** Name (or `#index` when unnamed) of the section at fault, when there is one. */
  readonly section: string | undefined;
  /** The object's name, when the parser was given one. */
  readonly object: string | undefined;
  /** The program at fault, when there is one. */
  readonly program: string | undefined;
  /** Index of the instruction at fault in its section, when there is one. */
  readonly instruction: number | undefined;
  /** The message without the place. */
  readonly reason: string;

  constructor(message: string, where: Where = {}, options: { cause?: unknown } = {}) {
    super(describe(message, where), options);
    this.reason = message;
    this.offset = where.offset;
    this.section = where.section;
    this.object = where.object;
    this.program = where.program;
    this.instruction = where.instruction;
  }

  /** Where this error is, for re-raising it with more of the place filled in. */
  get where(): Where {
    const { offset, section, object, program, instruction } = this;
    return { offset, section, object, program, instruction };
  }
}

/** Where in an object a problem is. */
export interface Where {
  offset?: number | undefined;
  section?: string | undefined;
  object?: string | undefined;
  program?: string | undefined;
  instruction?: number | undefined;
}

function describe(message: string, where: Where): string {
  const at = [
    where.object === undefined || where.object === '' ? undefined : `object ${where.object}`,
    where.section === undefined ? undefined : `section ${where.section}`,
    where.program === undefined ? undefined : `program ${where.program}`,
    where.instruction === undefined ? undefined : `instruction ${where.instruction}`,
    where.offset === undefined ? undefined : `offset 0x${where.offset.toString(16)}`,
  ].filter((part) => part !== undefined);
  return at.length === 0 ? message : `${at.join(', ')}: ${message}`;
}
