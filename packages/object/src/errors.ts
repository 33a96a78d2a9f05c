/**
 * Every error `@ebpf/object` throws is an {@link ObjectError}. It names where in the object the
 * problem is (a byte offset, a section) so a user can find it with `readelf` or `llvm-objdump`.
 */
export class ObjectError extends Error {
  override name = 'ObjectError';
  /** Byte offset in the ELF file at fault, when there is one. */
  readonly offset: number | undefined;
  /** Name (or `#index` when unnamed) of the section at fault, when there is one. */
  readonly section: string | undefined;

  constructor(message: string, where: { offset?: number; section?: string } = {}) {
    super(describe(message, where));
    this.offset = where.offset;
    this.section = where.section;
  }
}

function describe(message: string, where: { offset?: number; section?: string }): string {
  const at = [
    where.section === undefined ? undefined : `section ${where.section}`,
    where.offset === undefined ? undefined : `offset 0x${where.offset.toString(16)}`,
  ].filter((part) => part !== undefined);
  return at.length === 0 ? message : `${at.join(', ')}: ${message}`;
}
