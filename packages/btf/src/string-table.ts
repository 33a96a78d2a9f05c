/**
 * BTF string sections and a hash index of names in them. Offsets are global: split BTF continues
 * its base's string offsets, so an offset below `first` belongs to the base. The index hashes and
 * compares raw bytes, so finding a name decodes no string.
 */
import { decodeName } from './strings.ts';

/** A BTF string section (with its base's before it), addressed by global offset. */
export class StringTable {
  /** The global offset of `bytes[0]`. */
  readonly first: number;
  /** One past the last global offset of this table. */
  readonly end: number;
  /** Every string of this table by name, built on the first `find`. */
  private index: { names: NameIndex; starts: Int32Array } | undefined;

  /** `bytes` is a whole string section: NUL-terminated strings, the base's first one `''`. */
  constructor(
    readonly bytes: Uint8Array,
    readonly base: StringTable | undefined,
  ) {
    this.first = base ? base.end : 0;
    this.end = this.first + bytes.length;
  }

  /** The table (this or a base) holding global offset `off`, or undefined when out of range. */
  owner(off: number): StringTable | undefined {
    if (off >= this.first) return off < this.end ? this : undefined;
    return this.base?.owner(off);
  }

  /** The string at global offset `off`, or undefined when out of range. */
  at(off: number): string | undefined {
    const t = this.owner(off);
    if (!t) return undefined;
    const local = off - t.first;
    return decodeName(t.bytes, local, t.bytes.indexOf(0, local));
  }

  /** Whether the string at global offset `off` is `name` (UTF-8 bytes, without NUL). */
  equals(off: number, name: Uint8Array): boolean {
    const t = off >= this.first ? this : this.owner(off);
    if (!t || off >= t.end) return false;
    const { bytes } = t;
    const at = off - t.first;
    // The NUL after the name first: most strings of another length fail there.
    if (at + name.length >= bytes.length || bytes[at + name.length] !== 0) return false;
    for (let i = 0; i < name.length; i++) if (bytes[at + i] !== name[i]) return false;
    return true;
  }

  /** The global offset of `name` (UTF-8 bytes, without NUL) here or in the base; -1 if absent. */
  find(name: Uint8Array): number {
    const inBase = this.base ? this.base.find(name) : -1;
    if (inBase >= 0) return inBase;
    if (!this.index) {
      const starts = this.starts();
      this.index = { names: new NameIndex(this, starts), starts };
    }
    const e = this.index.names.lookup(name)[0];
    return e === undefined ? -1 : this.index.starts[e]!;
  }

  /** The global offset of every string of this table (not the base's). */
  private starts(): Int32Array {
    const { bytes } = this;
    let n = 0;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0) n++;
    const starts = new Int32Array(n);
    for (let i = 0, k = 0; k < n; i = bytes.indexOf(0, i) + 1) starts[k++] = this.first + i;
    return starts;
  }
}

/** FNV-1a of `bytes[start]` up to its NUL or the end. */
function hashAt(bytes: Uint8Array, start: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0) break;
    h = Math.imul(h ^ b, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Which entries have a given name: entry `e` is named by the string at global offset
 * `offsets[e]` of `strings` (-1: no name). Chained hashing over typed arrays, a few bytes per entry.
 */
export class NameIndex {
  /** Bucket → its first entry + 1 (0: empty). */
  private readonly heads: Int32Array;
  /** Entry → the next entry of its bucket + 1. */
  private readonly next: Int32Array;
  private readonly mask: number;

  constructor(
    private readonly strings: StringTable,
    private readonly offsets: Int32Array,
  ) {
    let buckets = 16;
    while (buckets < offsets.length * 2) buckets *= 2;
    this.mask = buckets - 1;
    this.heads = new Int32Array(buckets);
    this.next = new Int32Array(offsets.length);
    // Inserting from the last entry keeps every chain in entry order.
    const { heads, next, mask } = this;
    for (let e = offsets.length - 1; e >= 0; e--) {
      const off = offsets[e]!;
      const t = off >= strings.first ? strings : strings.owner(off);
      if (!t || off >= t.end) continue;
      const b = hashAt(t.bytes, off - t.first) & mask;
      next[e] = heads[b]!;
      heads[b] = e + 1;
    }
  }

  /** The entries named `name` (UTF-8 bytes), in entry order. */
  lookup(name: Uint8Array): number[] {
    const found: number[] = [];
    if (name.includes(0)) return found;
    for (let e = this.heads[hashAt(name, 0) & this.mask]! - 1; e >= 0; e = this.next[e]! - 1)
      if (this.strings.equals(this.offsets[e]!, name)) found.push(e);
    return found;
  }
}
