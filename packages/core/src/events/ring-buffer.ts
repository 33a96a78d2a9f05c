import * as sys from '@ebpf/sys';
import { RingbufHeader } from '@ebpf/uapi';
import { BpfError, ClosedError, InvalidArgumentError, translateSysError } from '../errors.ts';
import { KernelObject, onClose } from '../kernel-object.ts';
import { pageSize } from '../system.ts';
import { Readiness } from './readiness.ts';
import {
  atomicsLoad,
  atomicsStore,
  BU64,
  copyOut,
  isClosed,
  point,
  Record,
  type RingRecordHandler,
  release,
  toBigInt,
  toNumber,
  U8,
  U32,
} from './record.ts';

const { BusyBit: BUSY, DiscardBit: DISCARD, HdrSz: HEADER } = RingbufHeader;
/** What `RingBuffer` needs of a map: a `BpfMap` of type 'ringbuf'. */
export interface RingBufferMap {
  readonly fd: number;
  readonly typeName: string;
  readonly maxEntries: number;
}

/**
 * Whether plain loads of record headers are acquire loads. On x86-64 every load is an acquire
 * load in hardware, and V8 keeps typed-array loads in program order, so the walk reads headers
 * with plain loads there: `Atomics.load` is a builtin call in V8 and halves the ring's rate.
 * Elsewhere (arm64, ...) headers are read with `Atomics.load`.
 */
const PLAIN_ACQUIRE = process.arch === 'x64' || process.arch === 'ia32';

/** Records walked per call of `walk`: small enough for V8 to optimize it as a whole function. */
const CHUNK = 1024;

/** Records handed out by the last `walk`. */
let walked = 0;
/** Where the last walk started, and the bytes from there to the end of the last record handed out. */
let walkFrom = 0;
let walkedBytes = 0;

/**
 * Hands the records from position `cons` towards `prod` to `handler`, at most `max` of them;
 * stops at a record being written (BUSY) or when the handler closed the reader. Returns the
 * new position; sets `walked`, `walkFrom` and `walkedBytes`.
 */
function walk(
  record: Record,
  headers: Uint32Array,
  mask: number,
  cons: number,
  prod: number,
  handler: RingRecordHandler,
  max: number,
): number {
  // Positions grow past 2^32, so `cons` is a double; within a walk everything is kept in small
  // integers (offset in the ring, bytes walked) and added back once at the end.
  const available = prod - cons;
  let off = cons & mask;
  let bytes = 0;
  let count = 0;
  walkFrom = cons;
  walkedBytes = 0;
  while (bytes < available && count < max) {
    const len = PLAIN_ACQUIRE ? headers[off >>> 2]! : atomicsLoad(headers, off >>> 2);
    if (len & BUSY) break;
    const size = len & ~(BUSY | DISCARD);
    const step = (size + HEADER + 7) & ~7;
    bytes += step;
    if (!(len & DISCARD)) {
      count++;
      point(record, off + HEADER, size);
      walkedBytes = bytes;
      handler(record);
      if (isClosed(record)) break;
    }
    off = (off + step) & mask;
  }
  walked = count;
  return cons + bytes;
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
  readonly #readiness = new Readiness('waiting on the ring buffer');
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
    this.#readiness.add(fd);
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
      cons = Math.max(walkFrom + walkedBytes, cons);
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
    return this.#readiness.wait();
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
    this.#readiness.close();
    this.#unfollow?.();
    this.#unfollow = undefined;
    if (this.#record) release(this.#record, true);
    if (this.#consumer) sys.munmap(this.#consumer);
    if (this.#producer) sys.munmap(this.#producer);
    this.#consumer = undefined;
    this.#producer = undefined;
    super.close();
  }
}
