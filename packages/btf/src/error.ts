/** Raw BTF that breaks the format: `offset` is the byte of the input where it goes wrong. */
export class BtfError extends Error {
  override name = 'BtfError';
  constructor(
    message: string,
    /** Byte offset into the parsed input (`-1` when the problem has no single place). */
    readonly offset: number,
  ) {
    super(offset >= 0 ? `BTF at byte ${offset}: ${message}` : `BTF: ${message}`);
  }
}
