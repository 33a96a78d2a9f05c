import { ObjectError } from '../errors.ts';

/** The high 32 bits of `Number.MAX_SAFE_INTEGER` (2^53 - 1). */
const MAX_SAFE_HIGH = 2 ** 21 - 1;

/**
 * Bounds-checked reads of one byte order over an ELF image. Every read outside the image is an
 * {@link ObjectError} naming what was read and where, never a RangeError.
 */
export class Bytes {
  readonly bytes: Uint8Array;
  readonly little: boolean;
  private readonly view: DataView;

  constructor(bytes: Uint8Array, little: boolean) {
    this.bytes = bytes;
    this.little = little;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Checks that `size` bytes at `offset` lie inside the image; `what` (in `section`) names them for the error. */
  check(offset: number, size: number, what: string, section?: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.length) {
      const where = section === undefined ? { offset } : { offset, section };
      throw new ObjectError(
        `${what} (${size} bytes) runs past the end of the file (${this.bytes.length} bytes); the object is truncated or corrupt`,
        where,
      );
    }
  }

  u8(offset: number): number {
    return this.view.getUint8(offset);
  }

  u16(offset: number): number {
    return this.view.getUint16(offset, this.little);
  }

  u32(offset: number): number {
    return this.view.getUint32(offset, this.little);
  }

  i64(offset: number): bigint {
    return this.view.getBigInt64(offset, this.little);
  }

  u64(offset: number): bigint {
    return this.view.getBigUint64(offset, this.little);
  }

  /**
   * A 64-bit field that must be a safe integer (an offset or size); larger is corrupt. Read as
   * two 32-bit halves: no BigInt for the many offsets and sizes of headers and relocations.
   */
  size64(offset: number, what: string, section?: string): number {
    const low = this.u32(this.little ? offset : offset + 4);
    const high = this.u32(this.little ? offset + 4 : offset);
    if (high > MAX_SAFE_HIGH) {
      throw new ObjectError(`${what} is 0x${this.u64(offset).toString(16)}, larger than any file`, {
        offset,
        ...(section === undefined ? {} : { section }),
      });
    }
    return high * 2 ** 32 + low;
  }
}
