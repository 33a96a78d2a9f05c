/**
 * Filling a `union bpf_attr` (or any generated layout) field by field without allocating after
 * construction. Scalar fields are written through one DataView at the layout's constant offsets;
 * pointer fields are never written as numbers: each is tied to the buffer it points at, in the
 * reused `pointers` array (`[offset, buffer, offset, buffer, ...]`) that `@ebpf/sys`'s `bpf()`
 * takes, and only native code turns those buffers into addresses.
 */
import type { FieldLayout, FieldsOfType, StructLayout } from './layout.ts';
import { encodeUtf8Into } from './utf8.ts';

/** What a pointer field may point at: any view on memory, or null for "no buffer" (address 0). */
export type PointerTarget = ArrayBufferView | null;

const TWO_32 = 2 ** 32;
/** The kernel reads attrs in host byte order. */
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * A reusable attr buffer for one layout.
 *
 * ```ts
 * const a = new AttrBuffer(TestRunAttr);
 * a.u32('progFd', fd).pointer('dataIn', packet).u32('dataSizeIn', packet.length).u32('repeat', 1);
 * bpf(Cmd.ProgTestRun, a.bytes, a.pointers);
 * a.getU32('retval');
 * a.reset();
 * ```
 */
export class AttrBuffer<L extends StructLayout = StructLayout> {
  /** The layout this buffer follows. */
  readonly layout: L;
  /** The attr bytes, `layout.size` long: what `bpf()` takes as `attr`. */
  readonly bytes: Uint8Array;
  /**
   * `[offset, buffer, offset, buffer, ...]`, one pair per distinct pointer offset of the layout,
   * allocated once; `buffer` is null until {@link pointer} sets it. What `bpf()` takes as `pointers`.
   */
  readonly pointers: Array<number | Uint8Array | null>;
  private readonly view: DataView;

  constructor(layout: L) {
    this.layout = layout;
    this.bytes = new Uint8Array(layout.size);
    this.view = new DataView(this.bytes.buffer);
    const offsets: number[] = [];
    for (const f of Object.values(layout.fields)) {
      if (f.type === 'ptr' && !offsets.includes(f.offset)) offsets.push(f.offset);
    }
    offsets.sort((a, b) => a - b);
    this.pointers = [];
    for (const o of offsets) this.pointers.push(o, null);
  }

  private field(name: string, sizes: number, what: string): FieldLayout {
    const f = this.layout.fields[name];
    if (!f) throw new TypeError(`${this.layout.name} has no field ${name}`);
    if (f.type === 'ptr' || f.type === 'bytes' || f.size !== sizes) {
      throw new TypeError(`${this.layout.name}.${name} is ${f.type} (${f.size} bytes), not ${what}`);
    }
    return f;
  }

  /** Throws a RangeError naming the field unless `value` is an integer from `min` to `max`. */
  private checkInt(name: string, value: number, min: number, max: number): void {
    if (typeof value !== 'number' || !(value >= min && value <= max) || value % 1 !== 0) {
      throw new RangeError(
        `${this.layout.name}.${name} takes an integer from ${min} to ${max}, got ${String(value)}`,
      );
    }
  }

  /**
   * Writes `value` into the bitfield `f` (checked to fit its width), keeping the unit's other bits.
   * A bitfield of a 64-bit unit (`perf_event_attr`'s flags) is written in the 32-bit half holding it.
   */
  private setBits(name: string, f: FieldLayout, value: number): void {
    const width = f.bitSize!;
    this.checkInt(name, value, 0, 2 ** width - 1);
    let shift = f.bitOffset!;
    let offset = f.offset;
    let size = f.size;
    if (size === 8) {
      if ((shift % 32) + width > 32)
        throw new TypeError(`${this.layout.name}.${name} spans both halves of its 64-bit unit: not writable`);
      const high = shift >= 32;
      offset += high === LE ? 4 : 0;
      shift %= 32;
      size = 4;
    }
    const mask = width === 32 ? 0xffffffff : ((1 << width) - 1) << shift;
    const unit =
      size === 4
        ? this.view.getUint32(offset, LE)
        : size === 2
          ? this.view.getUint16(offset, LE)
          : this.view.getUint8(offset);
    const next = ((unit & ~mask) | ((value << shift) & mask)) >>> 0;
    if (size === 4) this.view.setUint32(offset, next, LE);
    else if (size === 2) this.view.setUint16(offset, next, LE);
    else this.view.setUint8(offset, next);
  }

  private getBits(f: FieldLayout, unit: number): number {
    const width = f.bitSize!;
    return width === 32 ? unit >>> 0 : (unit >>> f.bitOffset!) & ((1 << width) - 1);
  }

  /** Writes an 8-bit field: an integer from -128 to 255 (a bitfield: from 0 to its largest value), else RangeError. */
  u8(name: FieldsOfType<L, 'u8' | 's8'>, value: number): this {
    const f = this.field(name, 1, 'an 8-bit integer');
    if (f.bitSize !== undefined) {
      this.setBits(name, f, value);
    } else {
      this.checkInt(name, value, -0x80, 0xff);
      this.view.setUint8(f.offset, value & 0xff);
    }
    return this;
  }

  /** Writes a 16-bit field: an integer from -32768 to 65535 (a bitfield: from 0 to its largest value), else RangeError. */
  u16(name: FieldsOfType<L, 'u16' | 's16'>, value: number): this {
    const f = this.field(name, 2, 'a 16-bit integer');
    if (f.bitSize !== undefined) {
      this.setBits(name, f, value);
    } else {
      this.checkInt(name, value, -0x8000, 0xffff);
      this.view.setUint16(f.offset, value & 0xffff, LE);
    }
    return this;
  }

  /**
   * Writes a 32-bit field: an integer from -2^31 to 2^32-1, negative numbers as two's complement
   * (so fds like -1 work); a bitfield takes 0 to its largest value. Anything else is a RangeError.
   */
  u32(name: FieldsOfType<L, 'u32' | 's32'>, value: number): this {
    const f = this.field(name, 4, 'a 32-bit integer');
    if (f.bitSize !== undefined) {
      this.setBits(name, f, value);
    } else {
      this.checkInt(name, value, -0x80000000, 0xffffffff);
      this.view.setUint32(f.offset, value >>> 0, LE);
    }
    return this;
  }

  /** Writes a 32-bit field as signed (same range as {@link u32}). */
  s32(name: FieldsOfType<L, 'u32' | 's32'>, value: number): this {
    const f = this.field(name, 4, 'a 32-bit integer');
    this.checkInt(name, value, -0x80000000, 0xffffffff);
    this.view.setInt32(f.offset, value, LE);
    return this;
  }

  /**
   * Writes a 64-bit scalar field from a bigint or a non-negative safe integer (numbers are written
   * as two 32-bit halves, so no bigint is allocated); a bitfield takes 0 to its largest value.
   */
  u64(name: FieldsOfType<L, 'u64' | 's64'>, value: number | bigint): this {
    const f = this.field(name, 8, 'a 64-bit integer');
    if (f.bitSize !== undefined) {
      this.setBits(name, f, Number(value));
    } else if (typeof value === 'bigint') {
      this.view.setBigUint64(f.offset, BigInt.asUintN(64, value), LE);
    } else {
      if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER) || value !== Math.floor(value)) {
        throw new RangeError(
          `${this.layout.name}.${name}: ${value} is not a non-negative safe integer (pass a bigint)`,
        );
      }
      const lo = value % TWO_32;
      const hi = Math.floor(value / TWO_32);
      this.view.setUint32(f.offset + (LE ? 0 : 4), lo, LE);
      this.view.setUint32(f.offset + (LE ? 4 : 0), hi, LE);
    }
    return this;
  }

  /** Writes a 64-bit field as signed (bigint). */
  s64(name: FieldsOfType<L, 'u64' | 's64'>, value: bigint): this {
    const f = this.field(name, 8, 'a 64-bit integer');
    this.view.setBigInt64(f.offset, BigInt.asIntN(64, value), LE);
    return this;
  }

  /**
   * Ties a pointer field to the buffer it points at (or to nothing, with null). The address is
   * written by native code when the attr is passed to `bpf()`; this buffer's `bytes` stay 0 there.
   * Pass a `Uint8Array` to stay allocation-free (other views are wrapped in one).
   */
  pointer(name: FieldsOfType<L, 'ptr'>, buffer: PointerTarget): this {
    const f = this.layout.fields[name];
    if (f?.type !== 'ptr') throw new TypeError(`${this.layout.name}.${name} is not a pointer field`);
    if (buffer !== null && !ArrayBuffer.isView(buffer)) {
      throw new TypeError(
        `${this.layout.name}.${name} takes a Uint8Array (or another ArrayBuffer view) or null, got ${typeof buffer}`,
      );
    }
    const p = this.pointers;
    for (let k = 0; k < p.length; k += 2) {
      if (p[k] === f.offset) {
        p[k + 1] =
          buffer === null
            ? null
            : buffer instanceof Uint8Array
              ? buffer
              : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
        return this;
      }
    }
    throw new TypeError(`${this.layout.name}.${name}: no pointer slot at offset ${f.offset}`);
  }

  /** The buffer a pointer field is tied to, or null. */
  getPointer(name: FieldsOfType<L, 'ptr'>): Uint8Array | null {
    const f = this.layout.fields[name];
    if (f?.type !== 'ptr') throw new TypeError(`${this.layout.name}.${name} is not a pointer field`);
    const p = this.pointers;
    for (let k = 0; k < p.length; k += 2) if (p[k] === f.offset) return p[k + 1] as Uint8Array | null;
    return null;
  }

  /**
   * Copies bytes into a `'bytes'` field (`mapName`, `progName`); a string is written as UTF-8.
   * The rest of the field is zeroed; input longer than the field throws.
   */
  setBytes(name: FieldsOfType<L, 'bytes'>, value: Uint8Array | string): this {
    const f = this.layout.fields[name];
    if (f?.type !== 'bytes') throw new TypeError(`${this.layout.name}.${name} is not a bytes field`);
    const target = this.bytes.subarray(f.offset, f.offset + f.size);
    target.fill(0);
    if (typeof value === 'string') {
      if (encodeUtf8Into(value, target) < 0)
        throw new RangeError(`${this.layout.name}.${name}: '${value}' is longer than ${f.size} bytes`);
    } else {
      if (value.length > f.size)
        throw new RangeError(`${this.layout.name}.${name}: ${value.length} bytes do not fit in ${f.size}`);
      target.set(value);
    }
    return this;
  }

  /** A view (no copy) on a `'bytes'` field. */
  getBytes(name: FieldsOfType<L, 'bytes'>): Uint8Array {
    const f = this.layout.fields[name];
    if (f?.type !== 'bytes') throw new TypeError(`${this.layout.name}.${name} is not a bytes field`);
    return this.bytes.subarray(f.offset, f.offset + f.size);
  }

  /** Reads an 8-bit field. */
  getU8(name: FieldsOfType<L, 'u8' | 's8'>): number {
    const f = this.field(name, 1, 'an 8-bit integer');
    const v = this.view.getUint8(f.offset);
    return f.bitSize !== undefined ? this.getBits(f, v) : v;
  }

  /** Reads a 16-bit field. */
  getU16(name: FieldsOfType<L, 'u16' | 's16'>): number {
    const f = this.field(name, 2, 'a 16-bit integer');
    const v = this.view.getUint16(f.offset, LE);
    return f.bitSize !== undefined ? this.getBits(f, v) : v;
  }

  /** Reads a 32-bit field as unsigned. */
  getU32(name: FieldsOfType<L, 'u32' | 's32'>): number {
    const f = this.field(name, 4, 'a 32-bit integer');
    const v = this.view.getUint32(f.offset, LE);
    return f.bitSize !== undefined ? this.getBits(f, v) : v;
  }

  /** Reads a 32-bit field as signed. */
  getS32(name: FieldsOfType<L, 'u32' | 's32'>): number {
    return this.view.getInt32(this.field(name, 4, 'a 32-bit integer').offset, LE);
  }

  /** Reads a 64-bit field (or a bitfield of a 64-bit unit) as an unsigned bigint. */
  getU64(name: FieldsOfType<L, 'u64' | 's64'>): bigint {
    const f = this.field(name, 8, 'a 64-bit integer');
    const v = this.view.getBigUint64(f.offset, LE);
    return f.bitSize !== undefined ? BigInt.asUintN(f.bitSize, v >> BigInt(f.bitOffset!)) : v;
  }

  /** Reads a 64-bit field as a number (exact below 2^53; no bigint allocated). */
  getU64Number(name: FieldsOfType<L, 'u64' | 's64'>): number {
    const o = this.field(name, 8, 'a 64-bit integer').offset;
    return this.view.getUint32(o + (LE ? 4 : 0), LE) * TWO_32 + this.view.getUint32(o + (LE ? 0 : 4), LE);
  }

  /** Reads a 64-bit field as a signed bigint. */
  getS64(name: FieldsOfType<L, 'u64' | 's64'>): bigint {
    return this.view.getBigInt64(this.field(name, 8, 'a 64-bit integer').offset, LE);
  }

  /** Zeroes the bytes and unties every pointer, ready for the next call. */
  reset(): this {
    this.bytes.fill(0);
    const p = this.pointers;
    for (let k = 1; k < p.length; k += 2) p[k] = null;
    return this;
  }
}
