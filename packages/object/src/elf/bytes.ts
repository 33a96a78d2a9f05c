import { ObjectError } from '../errors.ts';

/** The high 32 bits of `Number.MAX_SAFE_INTEGER` (2^53 - 1). */
const MAX_SAFE_HIGH = 2 ** 21 - 1;

/** Where a read happens, for the error when it falls outside the file. */
/** Where a field lies, for errors: a section by name, or by index before sections are named. */
export type SectionRef = string | number | undefined;

/** The `section` of an error's place. */
function sectionPlace(section: SectionRef): { section?: string } {
  if (section === undefined) return {};
  return { section: typeof section === 'number' ? `#${section}` : section };
}

/**
 * Random access to the bytes of an ELF file that is not held in memory whole (a file on disk,
 * read on demand): {@link ElfFile.open} reads only the headers and the sections asked for.
 */
export interface ElfSource {
  /** The file's size in bytes. */
  readonly size: number;
  /** Exactly `length` bytes at `offset`; the ELF reader asks only for ranges inside `size`. */
  read(offset: number, length: number): Uint8Array;
}

/**
 * Bounds-checked reads of one byte order over a range of an ELF file that starts at file offset
 * `base`; offsets are relative to the range, errors name the file offset.
 */
export class Bytes {
  readonly bytes: Uint8Array;
  readonly little: boolean;
  readonly base: number;
  private readonly view: DataView;

  constructor(bytes: Uint8Array, little: boolean, base = 0) {
    this.bytes = bytes;
    this.little = little;
    this.base = base;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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
  size64(offset: number, what: string, section?: SectionRef): number {
    const low = this.u32(this.little ? offset : offset + 4);
    const high = this.u32(this.little ? offset + 4 : offset);
    if (high > MAX_SAFE_HIGH) {
      throw new ObjectError(`${what} is 0x${this.u64(offset).toString(16)}, larger than any file`, {
        offset: this.base + offset,
        ...sectionPlace(section),
      });
    }
    return high * 2 ** 32 + low;
  }
}

/** A whole ELF file, in memory or behind an {@link ElfSource}, cut into checked {@link Bytes} ranges. */
export class Image {
  readonly size: number;
  readonly little: boolean;
  private readonly read: (offset: number, length: number) => Uint8Array;

  constructor(size: number, little: boolean, read: (offset: number, length: number) => Uint8Array) {
    this.size = size;
    this.little = little;
    this.read = read;
  }

  /** Checks that `size` bytes at `offset` lie inside the file. */
  check(offset: number, size: number, what: string, section?: SectionRef): void {
    if (offset < 0 || size < 0 || offset + size > this.size) {
      throw new ObjectError(
        `${what} (${size} bytes) runs past the end of the file (${this.size} bytes); the object is truncated or corrupt`,
        { offset, ...sectionPlace(section) },
      );
    }
  }

  /** The `size` bytes at `offset`, checked to lie inside the file. */
  at(offset: number, size: number, what: string, section?: SectionRef): Bytes {
    this.check(offset, size, what, section);
    return new Bytes(this.read(offset, size), this.little, offset);
  }
}
