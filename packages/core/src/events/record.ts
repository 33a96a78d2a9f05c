/**
 * The record facade shared by the ring buffer and perf buffer readers: read-only, bounds-checked
 * access to a record where the kernel wrote it, without handing out any view of kernel memory.
 */
import {
  type Codec,
  type CodecLike,
  type CodecType,
  hostLittleEndian,
  resolveCodec,
} from '../codec/codec.ts';
import { BpfError } from '../errors.ts';

const TWO32 = 2 ** 32;
/** Records are in the host's byte order; typed arrays read in it too. */
const LITTLE = hostLittleEndian;
/** Records up to this size are copied byte by byte; larger ones through `TypedArray#set`. */
const COPY_LOOP_MAX = 64;

// The readers' data pages take no write from user space: a write into them kills the process
// (SIGSEGV for a ring buffer's read-only mapping, SIGBUS for a perf ring's data pages), so no
// view of them may ever reach user code. The intrinsics that receive such a view are taken
// here, when the module loads, so that code patching `Atomics`, `Uint8Array`, `Function.prototype
// .call` or `Symbol.species` later never receives one. Methods that consult `Symbol.species`
// (`subarray`, `slice`) are never called on a view of the mapping. This guards against mistakes
// and later patching, not against hostile code in the process (which can map the ring itself).
export const U8 = Uint8Array;
export const U16 = Uint16Array;
export const U32 = Uint32Array;
export const I32 = Int32Array;
const F64 = Float64Array;
export const BU64 = BigUint64Array;
const BI64 = BigInt64Array;
const DV = DataView;
export const toBigInt = BigInt;
export const toNumber = Number;
export const atomicsLoad = Atomics.load;
export const atomicsStore = Atomics.store;
const uncurry = Function.prototype.bind.bind(Function.prototype.call) as <A extends unknown[], R>(
  fn: (...args: A) => R,
) => (self: unknown, ...args: A) => R;
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as Uint8Array;
const typedArraySet = uncurry(
  TypedArrayPrototype.set as (source: ArrayLike<number>, offset?: number) => void,
);
const typedArrayTag = uncurry(
  Object.getOwnPropertyDescriptor(TypedArrayPrototype, Symbol.toStringTag)?.get as () => string | undefined,
);
const typedArrayLength = uncurry(
  Object.getOwnPropertyDescriptor(TypedArrayPrototype, 'length')?.get as () => number,
);

/**
 * One record as the readers' `consume` hands it out (ring buffer and perf buffer alike): read-only, bounds-checked access to the
 * record's bytes where the kernel wrote them (no copy). Multi-byte reads are in the host's byte
 * order, as the BPF program wrote them. Every read outside `[0, length)` throws `RangeError`.
 *
 * The record `consume` hands out is reused for every record of a reader and is valid only during
 * the callback (one from `RingBuffer.nextTransient()`: until the next call on its reader); after
 * that, `length` is 0 and every read throws. Keep data with `bytes()` or `copyTo()`. Records from
 * a ring buffer's `batches()` are yours: they read a copy and stay valid.
 */
export interface RingRecord {
  /** Length of the record in bytes (0 once the callback has returned). */
  readonly length: number;
  /** The unsigned byte at `offset`. */
  u8(offset: number): number;
  /** The unsigned 16-bit integer at `offset`. */
  u16(offset: number): number;
  /** The unsigned 32-bit integer at `offset`. */
  u32(offset: number): number;
  /** The signed 32-bit integer at `offset`. */
  i32(offset: number): number;
  /** The unsigned 64-bit integer at `offset`, as a bigint (allocates one). */
  u64(offset: number): bigint;
  /** The signed 64-bit integer at `offset`, as a bigint (allocates one). */
  i64(offset: number): bigint;
  /**
   * The unsigned 64-bit integer at `offset` as a number, built from two 32-bit reads: no
   * allocation. Exact up to `Number.MAX_SAFE_INTEGER` (2^53 - 1); larger values are rounded.
   */
  u64n(offset: number): number;
  /** The 64-bit float at `offset`. */
  f64(offset: number): number;
  /**
   * Copies the record into `target` at `offset` (default 0) and returns the number of bytes
   * copied (`length`). Throws `RangeError` if it does not fit, `TypeError` if `target` is not a
   * `Uint8Array`.
   */
  copyTo(target: Uint8Array, offset?: number): number;
  /** A copy of the record's bytes, yours to keep and to write. */
  bytes(): Uint8Array;
  /**
   * The record decoded by `codec` (a struct codec, say one `ebpf gen` wrote, or a built-in codec's
   * name), read from its first
   * `codec.size` bytes; longer records (perf samples are padded to 8 bytes) are fine. The codec
   * reads a private copy of those bytes, never the kernel's memory, and no view is allocated per
   * record. Throws {@link RecordTooShortError} if the record is shorter than `codec.size`.
   *
   * ```ts
   * reader.consume((record) => handle(record.decode(eventCodec)));
   * ```
   */
  decode<C extends CodecLike>(codec: C): CodecType<C>;
}

/**
 * A record is shorter than the codec asked to decode it: the program wrote another struct (or an
 * older version of it) than the one the reader decodes with. Nothing past the record was read.
 */
export class RecordTooShortError extends BpfError {
  override name = 'RecordTooShortError';
  /** Bytes the record holds. */
  readonly length: number;
  /** Bytes the codec reads. */
  readonly size: number;

  constructor(length: number, codec: Codec<unknown>) {
    super(
      `a record of ${length} bytes is shorter than the ${codec.size} bytes ${codec.name} decodes: check that the program writes that struct (regenerate its types if it changed)`,
    );
    this.length = length;
    this.size = codec.size;
  }
}

/** Receives one record; see {@link RingRecord} for what it may do with it and for how long. */
export type RingRecordHandler = (record: RingRecord) => void;

function outside(offset: number, size: number, length: number): RangeError {
  return new RangeError(
    length === 0
      ? 'this record is no longer valid: read a record inside the consume() callback that received it (one from nextTransient(): before the next call on its reader)'
      : `reading ${size} byte${size === 1 ? '' : 's'} at offset ${String(offset)} is outside the record (length ${length})`,
  );
}

// Module-private functions with access to a record's private state (defined in its static block).
/** Points `record` at the `length` bytes at `base` of its data area, for one handler call. */
export let point: (record: Record, base: number, length: number) => void;
/** Invalidates a record for good (its reader closed) or until it is pointed at the next one. */
export let release: (record: Record, closed: boolean) => void;
/** Where in the data area the record was last pointed at. */
export let baseOf: (record: Record) => number;
/** Whether the record's reader was closed (by a handler, say). */
export let isClosed: (record: Record) => boolean;
/** Copies `length` bytes at `base` of the data area into `target` at `offset`. */
export let copyOut: (
  record: Record,
  base: number,
  length: number,
  target: Uint8Array,
  offset: number,
) => void;

/** The base of a record whose reader closed. */
const CLOSED = -1;

/**
 * The area of the record being made by {@link recordIn}. A private field cannot be initialised
 * from constructor arguments, and a field declared and then written in the constructor is
 * mutable to V8; initialised from here, `#area` is written once, so in a walk over one ring the
 * compiler reads the record's views as constants.
 */
let areaOfNew: Area | undefined;

/**
 * The typed views of one data area (a mapping, or a reader's batch copy), made once and shared by
 * every record read from it. They live only in private fields of this module's objects.
 */
export class Area {
  // `declare`d, not class fields: a class field is first defined as undefined and then written in
  // the constructor, and V8 treats a field written twice as mutable. Written once here, the views
  // stay constant fields, which the compiler folds into a getter that reads a known record.
  declare readonly buffer: ArrayBuffer;
  declare readonly start: number;
  declare readonly u8: Uint8Array;
  declare readonly u16: Uint16Array;
  declare readonly u32: Uint32Array;
  declare readonly i32: Int32Array;
  declare readonly f64: Float64Array;
  declare readonly u64: BigUint64Array;
  declare readonly i64: BigInt64Array;

  /** The data area is `bytes` long from `start` in `buffer`. */
  constructor(buffer: ArrayBuffer, start: number, bytes: number) {
    this.buffer = buffer;
    this.start = start;
    this.u8 = new U8(buffer, start, bytes);
    this.u16 = new U16(buffer, start, bytes / 2);
    this.u32 = new U32(buffer, start, bytes / 4);
    this.i32 = new I32(buffer, start, bytes / 4);
    this.f64 = new F64(buffer, start, bytes / 8);
    this.u64 = new BU64(buffer, start, bytes / 8);
    this.i64 = new BI64(buffer, start, bytes / 8);
  }
}

// Private 8 bytes (on the heap, writable) for reads at unaligned offsets, shared by all records:
// each read fills and reads them in one go.
const scratch = new U8(8);
const scratch16 = new U16(scratch.buffer);
const scratch32 = new U32(scratch.buffer);
const scratchI32 = new I32(scratch.buffer);
const scratchF64 = new F64(scratch.buffer);
const scratchU64 = new BU64(scratch.buffer);
const scratchI64 = new BI64(scratch.buffer);
/** Where `decode` copies a record's bytes for the codec (grown on demand, never shrunk). */
let decodeBytes = new U8(COPY_LOOP_MAX);
let decodeView = new DV(decodeBytes.buffer);

/**
 * The one implementation of `RingRecord`: a position and a length in an {@link Area}. The area's
 * typed arrays view the read-only mapping (or a batch copy) and live only in private fields; no
 * method returns, throws or passes any of them to code it does not own. A reader reuses one
 * record per area for `consume`; `batches()` makes one per record (a small object, no views).
 * Every record has the same fields, initialised in the same order: one hidden class, so the
 * getters stay monomorphic wherever records come from.
 */
export class Record implements RingRecord {
  readonly #area = areaOfNew as Area;
  /**
   * Where the record starts in the area; `CLOSED` once its reader closed (no field of its own
   * for that: `batches()` makes an object per record, and each pays for every field).
   */
  #base = 0;
  #len = 0;

  static {
    release = (record, closed) => {
      record.#len = 0;
      if (closed) record.#base = CLOSED;
    };
    isClosed = (record) => record.#base === CLOSED;
    baseOf = (record) => record.#base;
    point = (record, base, length) => {
      record.#base = base;
      record.#len = length;
    };
    copyOut = (record, base, length, target, offset) => copyArea(record.#area, base, length, target, offset);
  }

  /** Made by {@link recordIn} only (which gives it its area). */
  constructor(base: number, length: number) {
    if (this.#area === undefined) throw new TypeError('records are made by the ring and perf buffer readers');
    this.#base = base;
    this.#len = length;
  }

  get length(): number {
    return this.#len;
  }

  u8(offset: number): number {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset >= len) throw outside(offset, 1, len);
    return this.#area.u8[this.#base + offset]!;
  }

  u16(offset: number): number {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset + 2 > len) throw outside(offset, 2, len);
    const p = this.#base + offset;
    if ((p & 1) === 0) return this.#area.u16[p >>> 1]!;
    unaligned(this.#area, p, 2);
    return scratch16[0]!;
  }

  u32(offset: number): number {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset + 4 > len) throw outside(offset, 4, len);
    const p = this.#base + offset;
    if ((p & 3) === 0) return this.#area.u32[p >>> 2]!;
    unaligned(this.#area, p, 4);
    return scratch32[0]!;
  }

  i32(offset: number): number {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset + 4 > len) throw outside(offset, 4, len);
    const p = this.#base + offset;
    if ((p & 3) === 0) return this.#area.i32[p >>> 2]!;
    unaligned(this.#area, p, 4);
    return scratchI32[0]!;
  }

  u64(offset: number): bigint {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset + 8 > len) throw outside(offset, 8, len);
    const p = this.#base + offset;
    if ((p & 7) === 0) return this.#area.u64[p >>> 3]!;
    unaligned(this.#area, p, 8);
    return scratchU64[0]!;
  }

  i64(offset: number): bigint {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset + 8 > len) throw outside(offset, 8, len);
    const p = this.#base + offset;
    if ((p & 7) === 0) return this.#area.i64[p >>> 3]!;
    unaligned(this.#area, p, 8);
    return scratchI64[0]!;
  }

  u64n(offset: number): number {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset + 8 > len) throw outside(offset, 8, len);
    const p = this.#base + offset;
    let a: number;
    let b: number;
    if ((p & 3) === 0) {
      const i = p >>> 2;
      a = this.#area.u32[i]!;
      b = this.#area.u32[i + 1]!;
    } else {
      unaligned(this.#area, p, 8);
      a = scratch32[0]!;
      b = scratch32[1]!;
    }
    // Values below 2^32 skip the floating-point multiply: V8 keeps them in integer registers.
    if (LITTLE) return b === 0 ? a : a + b * TWO32;
    return a === 0 ? b : a * TWO32 + b;
  }

  f64(offset: number): number {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset + 8 > len) throw outside(offset, 8, len);
    const p = this.#base + offset;
    if ((p & 7) === 0) return this.#area.f64[p >>> 3]!;
    unaligned(this.#area, p, 8);
    return scratchF64[0]!;
  }

  copyTo(target: Uint8Array, offset = 0): number {
    if (typedArrayTag(target) !== 'Uint8Array') throw new TypeError('copyTo() target must be a Uint8Array');
    const len = this.#len;
    if (len === 0) throw outside(0, 0, 0);
    if (offset >>> 0 !== offset || offset > typedArrayLength(target) - len) {
      throw new RangeError(
        `a record of ${len} bytes does not fit in a Uint8Array of ${typedArrayLength(target)} at offset ${String(offset)}`,
      );
    }
    copyArea(this.#area, this.#base, len, target, offset);
    return len;
  }

  bytes(): Uint8Array {
    const len = this.#len;
    if (len === 0) throw outside(0, 0, 0);
    const out = new U8(len);
    copyArea(this.#area, this.#base, len, out, 0);
    return out;
  }

  decode<C extends CodecLike>(codecLike: C): CodecType<C> {
    const len = this.#len;
    if (len === 0) throw outside(0, 0, 0);
    const codec =
      typeof codecLike === 'string' ? resolveCodec(codecLike) : (codecLike as Codec<CodecType<C>>);
    const size = codec.size;
    if (size > len) throw new RecordTooShortError(len, codec);
    if (typedArrayLength(decodeBytes) < size) {
      decodeBytes = new U8(size);
      decodeView = new DV(decodeBytes.buffer);
    }
    copyArea(this.#area, this.#base, size, decodeBytes, 0);
    return codec.read(decodeView, 0);
  }
}

/** A record of `length` bytes at `base` of `area` (none until it is pointed at one, by default). */
export function recordIn(area: Area, base = 0, length = 0): Record {
  areaOfNew = area;
  const record = new Record(base, length);
  areaOfNew = undefined;
  return record;
}

/** Copies `length` bytes at `base` of `area` into a `Uint8Array` the caller checked (or made). */
function copyArea(area: Area, base: number, length: number, target: Uint8Array, offset: number): void {
  if (length <= COPY_LOOP_MAX) {
    const src = area.u8;
    for (let i = 0; i < length; i++) target[offset + i] = src[base + i]!;
  } else {
    // A short-lived view of our own making; `set` reads it through internal slots only.
    typedArraySet(target, new U8(area.buffer, area.start + base, length), offset);
  }
}

/** Fills `scratch` with the `size` bytes at `p` of `area` (for a read at an unaligned offset). */
function unaligned(area: Area, p: number, size: number): void {
  const src = area.u8;
  for (let i = 0; i < size; i++) scratch[i] = src[p + i]!;
}
