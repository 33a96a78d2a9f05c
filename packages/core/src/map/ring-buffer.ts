import * as sys from '@ebpf/sys';
import { RingbufHeader } from '@ebpf/uapi';
import { hostLittleEndian } from '../codec/codec.ts';
import { BpfError, ClosedError, InvalidArgumentError, translateSysError } from '../errors.ts';
import { KernelObject, onClose } from '../kernel-object.ts';
import { pageSize } from '../system.ts';

const { BusyBit: BUSY, DiscardBit: DISCARD, HdrSz: HEADER } = RingbufHeader;
const TWO32 = 2 ** 32;
/** Records are in the host's byte order; typed arrays read in it too. */
const LITTLE = hostLittleEndian;
/**
 * Whether plain loads of record headers are acquire loads. On x86-64 every load is an acquire
 * load in hardware, and V8 keeps typed-array loads in program order, so the walk reads headers
 * with plain loads there: `Atomics.load` is a builtin call in V8 and halves the ring's rate.
 * Elsewhere (arm64, ...) headers are read with `Atomics.load`.
 */
const PLAIN_ACQUIRE = process.arch === 'x64' || process.arch === 'ia32';
/** Records up to this size are copied byte by byte; larger ones through `TypedArray#set`. */
const COPY_LOOP_MAX = 64;

// The ring's data pages are mapped read-only: a write into them kills the process (SIGSEGV), so
// no view of them may ever reach user code. The intrinsics that receive such a view are taken
// here, when the module loads, so that code patching `Atomics`, `Uint8Array`, `Function.prototype
// .call` or `Symbol.species` later never receives one. Methods that consult `Symbol.species`
// (`subarray`, `slice`) are never called on a view of the mapping. This guards against mistakes
// and later patching, not against hostile code in the process (which can map the ring itself).
const U8 = Uint8Array;
const U16 = Uint16Array;
const U32 = Uint32Array;
const I32 = Int32Array;
const F64 = Float64Array;
const BU64 = BigUint64Array;
const BI64 = BigInt64Array;
const toBigInt = BigInt;
const toNumber = Number;
const atomicsLoad = Atomics.load;
const atomicsStore = Atomics.store;
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

/** What `RingBuffer` needs of a map: a `BpfMap` of type 'ringbuf'. */
export interface RingBufferMap {
  readonly fd: number;
  readonly typeName: string;
  readonly maxEntries: number;
}

/**
 * One ring buffer record as `consume` hands it out: read-only, bounds-checked access to the
 * record's bytes where the kernel wrote them (no copy). Multi-byte reads are in the host's byte
 * order, as the BPF program wrote them. Every read outside `[0, length)` throws `RangeError`.
 *
 * The object is reused for every record of a reader and is valid only during the callback; after
 * it returns, `length` is 0 and every read throws. Keep data with `bytes()` or `copyTo()`.
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
}

/** Receives one record; see {@link RingRecord} for what it may do with it and for how long. */
export type RingRecordHandler = (record: RingRecord) => void;

function outside(offset: number, size: number, length: number): RangeError {
  return new RangeError(
    length === 0
      ? 'this ring record is no longer valid: read a record inside the consume() callback that received it'
      : `reading ${size} byte${size === 1 ? '' : 's'} at offset ${String(offset)} is outside the record (length ${length})`,
  );
}

/** Records walked per call of `walk`: small enough for V8 to optimize it as a whole function. */
const CHUNK = 1024;

// Module-private functions with access to a record's private state (defined in its static block).
/** Invalidates a record for good (its reader closed) or until the next `walk`. */
let release: (record: Record, closed: boolean) => void;
/** Position after the last record `walk` handed out (where to resume if a handler threw). */
let walkedTo: (record: Record) => number;
/** Copies `length` bytes at `base` of the data area into `target` at `offset`. */
let copyOut: (record: Record, base: number, length: number, target: Uint8Array, offset: number) => void;
/**
 * Hands the records from position `cons` towards `prod` to `handler`, at most `max` of them;
 * stops at a record being written (BUSY) or when the handler closed the reader. Returns the
 * new position; `walked` is set to the number of records handed out.
 */
let walk: (
  record: Record,
  headers: Uint32Array,
  mask: number,
  cons: number,
  prod: number,
  handler: RingRecordHandler,
  max: number,
) => number;
let walked = 0;

/**
 * The one implementation of `RingRecord`. Its typed arrays view the read-only mapping and live
 * only in private fields; no method returns, throws or passes any of them to code it does not own.
 */
class Record implements RingRecord {
  readonly #buffer: ArrayBuffer;
  readonly #start: number;
  readonly #u8: Uint8Array;
  readonly #u16: Uint16Array;
  readonly #u32: Uint32Array;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #u64: BigUint64Array;
  readonly #i64: BigInt64Array;
  /** Private 8 bytes (on the heap, writable) for reads at unaligned offsets. */
  readonly #scratch = new U8(8);
  readonly #scratch16 = new U16(this.#scratch.buffer);
  readonly #scratch32 = new U32(this.#scratch.buffer);
  readonly #scratchI32 = new I32(this.#scratch.buffer);
  readonly #scratchF64 = new F64(this.#scratch.buffer);
  readonly #scratchU64 = new BU64(this.#scratch.buffer);
  readonly #scratchI64 = new BI64(this.#scratch.buffer);
  #base = 0;
  #len = 0;
  /** Position (unmasked) where the current walk started. */
  #from = 0;
  /** Bytes from `#from` to the end of the record being handed out. */
  #walked = 0;
  #closed = false;

  static {
    release = (record, closed) => {
      record.#len = 0;
      if (closed) record.#closed = true;
    };
    walkedTo = (record) => record.#from + record.#walked;
    copyOut = (record, base, length, target, offset) => record.#copy(base, length, target, offset);
    walk = (record, headers, mask, cons, prod, handler, max) => {
      // Positions grow past 2^32, so `cons` is a double; within a walk everything is kept in
      // small integers (offset in the ring, bytes walked) and added back once at the end.
      const available = prod - cons;
      let off = cons & mask;
      let bytes = 0;
      let count = 0;
      record.#from = cons;
      record.#walked = 0;
      while (bytes < available && count < max) {
        const len = PLAIN_ACQUIRE ? headers[off >>> 2]! : atomicsLoad(headers, off >>> 2);
        if (len & BUSY) break;
        const size = len & ~(BUSY | DISCARD);
        const step = (size + HEADER + 7) & ~7;
        bytes += step;
        if (!(len & DISCARD)) {
          count++;
          record.#base = off + HEADER;
          record.#len = size;
          record.#walked = bytes;
          handler(record);
          if (record.#closed) break;
        }
        off = (off + step) & mask;
      }
      walked = count;
      return cons + bytes;
    };
  }

  /** `buffer` is the producer mapping; the data area is `bytes` long from `start`. */
  constructor(buffer: ArrayBuffer, start: number, bytes: number) {
    this.#buffer = buffer;
    this.#start = start;
    this.#u8 = new U8(buffer, start, bytes);
    this.#u16 = new U16(buffer, start, bytes / 2);
    this.#u32 = new U32(buffer, start, bytes / 4);
    this.#i32 = new I32(buffer, start, bytes / 4);
    this.#f64 = new F64(buffer, start, bytes / 8);
    this.#u64 = new BU64(buffer, start, bytes / 8);
    this.#i64 = new BI64(buffer, start, bytes / 8);
  }

  get length(): number {
    return this.#len;
  }

  u8(offset: number): number {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset >= len) throw outside(offset, 1, len);
    return this.#u8[this.#base + offset]!;
  }

  u16(offset: number): number {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset > len - 2) throw outside(offset, 2, len);
    const p = this.#base + offset;
    if ((p & 1) === 0) return this.#u16[p >>> 1]!;
    this.#unaligned(p, 2);
    return this.#scratch16[0]!;
  }

  u32(offset: number): number {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset > len - 4) throw outside(offset, 4, len);
    const p = this.#base + offset;
    if ((p & 3) === 0) return this.#u32[p >>> 2]!;
    this.#unaligned(p, 4);
    return this.#scratch32[0]!;
  }

  i32(offset: number): number {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset > len - 4) throw outside(offset, 4, len);
    const p = this.#base + offset;
    if ((p & 3) === 0) return this.#i32[p >>> 2]!;
    this.#unaligned(p, 4);
    return this.#scratchI32[0]!;
  }

  u64(offset: number): bigint {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset > len - 8) throw outside(offset, 8, len);
    const p = this.#base + offset;
    if ((p & 7) === 0) return this.#u64[p >>> 3]!;
    this.#unaligned(p, 8);
    return this.#scratchU64[0]!;
  }

  i64(offset: number): bigint {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset > len - 8) throw outside(offset, 8, len);
    const p = this.#base + offset;
    if ((p & 7) === 0) return this.#i64[p >>> 3]!;
    this.#unaligned(p, 8);
    return this.#scratchI64[0]!;
  }

  u64n(offset: number): number {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset > len - 8) throw outside(offset, 8, len);
    const p = this.#base + offset;
    let a: number;
    let b: number;
    if ((p & 3) === 0) {
      const i = p >>> 2;
      a = this.#u32[i]!;
      b = this.#u32[i + 1]!;
    } else {
      this.#unaligned(p, 8);
      a = this.#scratch32[0]!;
      b = this.#scratch32[1]!;
    }
    // Values below 2^32 skip the floating-point multiply: V8 keeps them in integer registers.
    if (LITTLE) return b === 0 ? a : a + b * TWO32;
    return a === 0 ? b : a * TWO32 + b;
  }

  f64(offset: number): number {
    const len = this.#len;
    if (offset >>> 0 !== offset || offset > len - 8) throw outside(offset, 8, len);
    const p = this.#base + offset;
    if ((p & 7) === 0) return this.#f64[p >>> 3]!;
    this.#unaligned(p, 8);
    return this.#scratchF64[0]!;
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
    this.#copy(this.#base, len, target, offset);
    return len;
  }

  bytes(): Uint8Array {
    const len = this.#len;
    if (len === 0) throw outside(0, 0, 0);
    const out = new U8(len);
    this.#copy(this.#base, len, out, 0);
    return out;
  }

  /** Copies data-area bytes into a `Uint8Array` the caller checked (or made). */
  #copy(base: number, length: number, target: Uint8Array, offset: number): void {
    if (length <= COPY_LOOP_MAX) {
      const src = this.#u8;
      for (let i = 0; i < length; i++) target[offset + i] = src[base + i]!;
    } else {
      // A short-lived view of our own making; `set` reads it through internal slots only.
      typedArraySet(target, new U8(this.#buffer, this.#start + base, length), offset);
    }
  }

  #unaligned(p: number, size: number): void {
    const src = this.#u8;
    const dst = this.#scratch;
    for (let i = 0; i < size; i++) dst[i] = src[p + i]!;
  }
}

/**
 * Reads a `BPF_MAP_TYPE_RINGBUF` map from user space, straight from the kernel's memory: the
 * consumer page is mapped read-write, the producer page and the data (twice, so records that wrap
 * are contiguous) read-only.
 *
 * - `consume(handler)` is the zero-copy path: every waiting record is handed to `handler` as a
 *   {@link RingRecord}, a reused read-only facade with bounds-checked getters, no allocation per
 *   record. The kernel's pages themselves are never exposed: JavaScript cannot make a view
 *   read-only, and a write into these pages would kill the process.
 * - `next()` and `for await (const record of reader)` give each record as a `Uint8Array` copy that
 *   you own (one allocation per record): convenient, not the fast path.
 *
 * ```ts
 * using events = BpfMap.create({ type: 'ringbuf', maxEntries: 1 << 20 });
 * using reader = new RingBuffer(events);
 * reader.consume((record) => (total += record.u64n(0))); // what is there now, no copies
 * for await (const bytes of reader) handle(bytes);        // waits on the event loop for more
 * ```
 *
 * The reader holds its own fd (a duplicate) and closes with the `BpfMap` it was made from:
 * closing either one resolves pending `wait()` calls and ends `for await` loops; later calls
 * throw `ClosedError`.
 */
export class RingBuffer extends KernelObject implements AsyncIterable<Uint8Array> {
  /** Size of the data area in bytes (the map's maxEntries). */
  readonly size: number;
  #consumer: ArrayBuffer | undefined;
  #producer: ArrayBuffer | undefined;
  readonly #consPos: BigUint64Array;
  readonly #prodPos: BigUint64Array;
  readonly #headers: Uint32Array;
  readonly #record: Record;
  readonly #mask: number;
  /** Consumer position (mirrors the kernel page; we are its only writer). */
  #cons: number;
  /** A `consume` callback is running (no re-entry: it would hand out the same records again). */
  #consuming = false;
  #watcher: sys.FdWatcher | undefined;
  /** Every pending `wait()`: all of them settle together, when records come or the reader closes. */
  #waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  /** Stops following the map's close (see the constructor). */
  #unfollow: (() => void) | undefined;

  constructor(map: RingBufferMap) {
    if (map.typeName !== 'ringbuf') {
      throw new InvalidArgumentError(`RingBuffer reads ringbuf maps; this is a ${map.typeName} map`);
    }
    let fd: number;
    try {
      fd = sys.dup(map.fd);
    } catch (error) {
      throw translateSysError(error, 'duplicating the ring buffer fd');
    }
    super(fd, 'ring buffer');
    this.size = map.maxEntries;
    this.#mask = this.size - 1;
    const page = pageSize();
    try {
      this.#consumer = sys.mmap(fd, page, true, 0);
      // Read-only (the kernel refuses writable mappings of the producer page and the data), so
      // unchecked: a JS write into it faults. It lives only in private fields of this module.
      this.#producer = sys.mmapReadOnlyUnchecked(fd, page + 2 * this.size, page);
    } catch (error) {
      if (this.#consumer) sys.munmap(this.#consumer);
      this.close();
      throw translateSysError(error, 'mapping the ring buffer');
    }
    this.#consPos = new BU64(this.#consumer, 0, 1);
    this.#prodPos = new BU64(this.#producer, 0, 1);
    this.#headers = new U32(this.#producer, page, (2 * this.size) / 4);
    this.#record = new Record(this.#producer, page, 2 * this.size);
    this.#cons = toNumber(this.#consPos[0]);
    // Weakly: a reader dropped without close() is still collected while its map lives.
    const self = new WeakRef(this);
    if (map instanceof KernelObject) this.#unfollow = onClose(map, () => self.deref()?.close());
  }

  #check(): void {
    if (this.#consumer === undefined) throw new ClosedError('this ring buffer reader is closed');
    if (this.#consuming) {
      throw new BpfError('this ring buffer reader is inside a consume() callback; return from it first');
    }
  }

  #producerPos(): number {
    return toNumber(atomicsLoad(this.#prodPos, 0));
  }

  #publish(pos: number): void {
    atomicsStore(this.#consPos, 0, toBigInt(pos));
  }

  /** Bytes produced and not yet consumed (headers included). */
  get available(): number {
    if (this.#consumer === undefined) throw new ClosedError('this ring buffer reader is closed');
    return this.#producerPos() - this.#cons;
  }

  /**
   * The zero-copy path: calls `handler` for every record committed so far (up to `limit`), with a
   * {@link RingRecord} reading the kernel's memory in place. Returns how many records were handed
   * to `handler`. The space is given back to producers once, at the end (also when `handler`
   * throws: the record it threw on counts as consumed). Closing the reader from `handler` stops
   * the walk; calling `consume`/`next` from it throws.
   */
  consume(handler: RingRecordHandler, limit = Number.POSITIVE_INFINITY): number {
    this.#check();
    if (typeof handler !== 'function') throw new InvalidArgumentError('consume() takes a function');
    const headers = this.#headers;
    const record = this.#record;
    const mask = this.#mask;
    const start = this.#cons;
    let cons = start;
    let count = 0;
    let prod = this.#producerPos();
    this.#consuming = true;
    try {
      // The walk goes in chunks: V8 then optimizes `walk` as a whole function, with the handler
      // and the record's getters inlined, instead of compiling this loop on stack replacement.
      while (cons < prod && count < limit) {
        const max = Math.min(limit - count, CHUNK);
        cons = walk(record, headers, mask, cons, prod, handler, max);
        count += walked;
        if (this.#consumer === undefined) break; // closed by the handler
        if (cons >= prod) prod = this.#producerPos();
        else if (walked < max) break; // stopped at a record still being written (BUSY)
      }
    } catch (error) {
      // The record whose handler threw counts as consumed, like those before it.
      cons = Math.max(walkedTo(record), cons);
      throw error;
    } finally {
      release(record, false);
      this.#consuming = false;
      if (this.#consumer !== undefined && cons !== start) {
        this.#cons = cons;
        this.#publish(cons);
      }
    }
    return count;
  }

  /**
   * The next committed record as a copy (a new `Uint8Array` you own), or undefined when there is
   * none yet. Its space is given back to producers at once. For the zero-copy, allocation-free
   * path use {@link RingBuffer.consume}.
   */
  next(): Uint8Array | undefined {
    this.#check();
    const headers = this.#headers;
    for (;;) {
      const cons = this.#cons;
      if (cons >= this.#producerPos()) return undefined;
      const off = cons & this.#mask;
      const len = PLAIN_ACQUIRE ? headers[off >>> 2]! : atomicsLoad(headers, off >>> 2);
      if (len & BUSY) return undefined;
      const size = len & ~(BUSY | DISCARD);
      let copy: Uint8Array | undefined;
      if (!(len & DISCARD)) {
        copy = new U8(size);
        copyOut(this.#record, off + HEADER, size, copy, 0);
      }
      this.#cons = cons + ((size + HEADER + 7) & ~7);
      this.#publish(this.#cons);
      if (copy) return copy;
    }
  }

  /**
   * Resolves when the kernel says records are waiting (at once if some are), or when the reader
   * (or the map it reads) is closed meanwhile. Any number of calls may wait at once; all settle.
   */
  wait(): Promise<void> {
    this.#check();
    if (this.#producerPos() > this.#cons) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#watcher ??= new sys.FdWatcher(this.fd, (error) => {
        this.#watcher?.stop();
        if (error) this.#settle(translateSysError(error, 'waiting on the ring buffer'));
        else this.#settle(undefined);
      });
      this.#waiters.push({ resolve, reject });
      this.#watcher.start();
    });
  }

  /** Settles every pending `wait()`: rejects them with `error`, or resolves them. */
  #settle(error: Error | undefined): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  /**
   * Records as they come, each a `Uint8Array` copy you own, waiting on the event loop (no thread,
   * no busy loop) when there are none. Ends, without an error, when the reader or the map it
   * was made from is closed (calls of `next()`, `wait()` and `consume()` after that throw
   * `ClosedError`).
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    while (!this.closed) {
      const record = this.next();
      if (record) {
        yield record;
        continue;
      }
      await this.wait();
    }
  }

  /**
   * Stops waiting, unmaps the ring and closes the reader's fd. The map stays open. Allowed from a
   * `consume` callback (the walk stops after it).
   */
  override close(): void {
    if (this.closed) return;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#unfollow?.();
    this.#unfollow = undefined;
    if (this.#record) release(this.#record, true);
    if (this.#consumer) sys.munmap(this.#consumer);
    if (this.#producer) sys.munmap(this.#producer);
    this.#consumer = undefined;
    this.#producer = undefined;
    super.close();
    this.#settle(undefined);
  }
}
