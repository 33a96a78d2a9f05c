/** Writing BTF blobs, for tests and tools. */

/**
 * A minimal BTF writer (little-endian), used by tests to make synthetic kernels: each `type()` call
 * appends one type record (kind, name, vlen, size-or-type, then the kind's trailing u32 words).
 */
export class BtfBuilder {
  private strings = ['\0'];
  private strLen = 1;
  private words: number[] = [];
  private count = 0;

  /** Adds a string to the string section; returns its offset ('' is offset 0). */
  str(s: string): number {
    if (s === '') return 0;
    const off = this.strLen;
    this.strings.push(`${s}\0`);
    this.strLen += Buffer.byteLength(s) + 1;
    return off;
  }

  /** Appends a type; returns its id. */
  type(
    kind: number,
    name: string,
    vlen: number,
    sizeOrType: number,
    tail: number[] = [],
    kindFlag = false,
  ): number {
    this.words.push(this.str(name), ((kindFlag ? 1 : 0) << 31) | (kind << 24) | vlen, sizeOrType, ...tail);
    return ++this.count;
  }

  /** The BTF blob. */
  build(): Uint8Array {
    const types = Buffer.alloc(this.words.length * 4);
    for (const [i, w] of this.words.entries()) types.writeUInt32LE(w >>> 0, i * 4);
    const strs = Buffer.from(this.strings.join(''));
    const hdr = Buffer.alloc(24);
    hdr.writeUInt16LE(0xeb9f, 0);
    hdr.writeUInt8(1, 2);
    hdr.writeUInt32LE(24, 4);
    hdr.writeUInt32LE(0, 8);
    hdr.writeUInt32LE(types.length, 12);
    hdr.writeUInt32LE(types.length, 16);
    hdr.writeUInt32LE(strs.length, 20);
    return new Uint8Array(Buffer.concat([hdr, types, strs]));
  }
}
