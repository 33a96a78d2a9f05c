import { ObjectError } from '../errors.ts';

/** Where a read happens, for the error when it falls outside the file. */
export interface Place {
  what: string;
  section?: string;
}

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

  /** Checks that `size` bytes at `offset` lie inside the image. */
  check(offset: number, size: number, place: Place): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.length) {
      const where = place.section === undefined ? { offset } : { offset, section: place.section };
      throw new ObjectError(
        `${place.what} (${size} bytes) runs past the end of the file (${this.bytes.length} bytes); the object is truncated or corrupt`,
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

  /** A 64-bit field that must be a safe integer (an offset or size); larger is corrupt. */
  size64(offset: number, place: Place): number {
    const value = this.u64(offset);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new ObjectError(`${place.what} is 0x${value.toString(16)}, larger than any file`, {
        offset,
        ...(place.section === undefined ? {} : { section: place.section }),
      });
    }
    return Number(value);
  }
}
