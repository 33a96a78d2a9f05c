import * as sys from '@ebpf/sys';
import { RingbufHeader } from '@ebpf/uapi';
import type { Codec } from '../codec/codec.ts';
import { InvalidArgumentError, translateSysError } from '../errors.ts';
import { pageSize } from '../system.ts';
import { EventReader } from './reader.ts';
import {
  Area,
  atomicsLoad,
  atomicsStore,
  BU64,
  baseOf,
  I32,
  isClosed,
  point,
  type Record,
  RecordTooShortError,
  type RingRecord,
  type RingRecordHandler,
  recordIn,
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

/** One ring map of a reader: its mappings, the private views the walk reads through, its handler. */
interface Ring {
  readonly fd: number;
  readonly consumer: ArrayBuffer;
  readonly producer: ArrayBuffer;
  readonly consPos: BigUint64Array;
  readonly prodPos: BigUint64Array;
  /**
   * The record headers, signed: a committed record's header (neither flag, the sign bit being
   * BUSY) is then a length that fits a small integer as it is, with no check per record.
   */
  readonly headers: Int32Array;
  readonly record: Record;
  readonly mask: number;
  readonly walk: Walk;
  /** Consumer position (mirrors the kernel page; we are its only writer). */
  cons: number;
  /** The handler `consume` gives this ring's records to (the one passed to `consume` if none). */
  readonly handler: RingRecordHandler | undefined;
}

/** Maps the ring of a ringbuf map fd (which stays the caller's); `handler` is the ring's own. */
function mapRing(map: RingBufferMap, fd: number, handler: RingRecordHandler | undefined): Ring {
  const page = pageSize();
  const size = map.maxEntries;
  let consumer: ArrayBuffer | undefined;
  try {
    consumer = sys.mmap(fd, page, true, 0);
    // Read-only (the kernel refuses writable mappings of the producer page and the data), so
    // unchecked: a JS write into it faults. It lives only in private fields of this module.
    const producer = sys.mmapReadOnlyUnchecked(fd, page + 2 * size, page);
    const consPos = new BU64(consumer, 0, 1);
    const headers = new I32(producer, page, (2 * size) / 4);
    const record = recordIn(new Area(producer, page, 2 * size));
    return {
      fd,
      consumer,
      producer,
      consPos,
      prodPos: new BU64(producer, 0, 1),
      headers,
      record,
      mask: size - 1,
      walk: walker(record, headers, size - 1),
      cons: toNumber(consPos[0]),
      handler,
    };
  } catch (error) {
    if (consumer) sys.munmap(consumer);
    throw translateSysError(error, 'mapping the ring buffer');
  }
}

function checkRingMap(map: RingBufferMap, handler: RingRecordHandler | undefined): void {
  if (map.typeName !== 'ringbuf') {
    throw new InvalidArgumentError(`RingBuffer reads ringbuf maps; this is a ${map.typeName} map`);
  }
  if (handler !== undefined && typeof handler !== 'function') {
    throw new InvalidArgumentError("a ring's handler must be a function (or left out)");
  }
}

function dupRing(map: RingBufferMap): number {
  try {
    return sys.dup(map.fd);
  } catch (error) {
    throw translateSysError(error, 'duplicating the ring buffer fd');
  }
}

/** Records walked per call of `walk`: small enough for V8 to optimize it as a whole function. */
const CHUNK = 1024;

/** Records handed out by the last `walk`. */
let walked = 0;
/** Where the last walk started (to find the record a handler threw on). */
let walkFrom = 0;

/** The position after the record `record` was last pointed at, in a walk that started at `from`. */
function endOf(record: Record, from: number, mask: number): number {
  const off = baseOf(record) - HEADER;
  return from + ((off - (from & mask)) & mask) + ((record.length + HEADER + 7) & ~7);
}

/** Hands the records from `cons` towards `prod` to `handler`, at most `max`; see {@link walker}. */
type Walk = (cons: number, prod: number, handler: RingRecordHandler, max: number) => number;

/**
 * The walk of one ring: hands the records from position `cons` towards `prod` to `handler`, at
 * most `max` of them; stops at a record being written (BUSY) or when the handler closed the
 * reader. Returns the new position; sets `walked` and `walkFrom`. A closure per ring, so that
 * while a process reads a single ring V8 compiles it with the ring's record and views as
 * constants (no field loads or shape checks per record); with several rings it is generic.
 */
function walker(record: Record, headers: Int32Array, mask: number): Walk {
  // Module bindings assigned at load time (`let`s of record.ts), read once here: the walk then
  // calls constants, not a binding it would load and check for initialisation per record.
  const pointAt = point;
  const closedOf = isClosed;
  return (cons, prod, handler, max) => {
    // Positions grow past 2^32, so `cons` is a double; within a walk everything is kept in small
    // integers (offset in the ring, bytes walked) and added back once at the end.
    const available = prod - cons;
    let off = cons & mask;
    let bytes = 0;
    let count = 0;
    // `max` arrives tagged; made an integer once here, it is not checked and untagged per record.
    const stop = max | 0;
    walkFrom = cons;
    while (bytes < available && count < stop) {
      const len = PLAIN_ACQUIRE ? headers[off >>> 2]! : atomicsLoad(headers, off >>> 2);
      if ((len & (BUSY | DISCARD)) === 0) {
        // Committed (the common case): the header is the record's length.
        const step = (len + HEADER + 7) & ~7;
        bytes += step;
        count++;
        pointAt(record, off + HEADER, len);
        handler(record);
        if (closedOf(record)) break;
        off = (off + step) & mask;
      } else if (len & BUSY) {
        break;
      } else {
        const step = ((len & ~DISCARD) + HEADER + 7) & ~7;
        bytes += step;
        off = (off + step) & mask;
      }
    }
    walked = count;
    return cons + bytes;
  };
}

/**
 * Reads `BPF_MAP_TYPE_RINGBUF` maps from user space, straight from the kernel's memory: of each
 * ring the consumer page is mapped read-write, the producer page and the data (twice, so records
 * that wrap are contiguous) read-only. One reader can read several ring maps (`add`), as libbpf's
 * `ring_buffer__add` does, each with a handler of its own or the one given to `consume`.
 *
 * - `consume(handler)` is the zero-copy path: every waiting record is handed to `handler` as a
 *   {@link RingRecord}, a reused read-only facade with bounds-checked getters, no allocation per
 *   record. The kernel's pages themselves are never exposed: JavaScript cannot make a view
 *   read-only, and a write into these pages would kill the process.
 * - `next()` and `for await (const bytes of reader)` give records you own: `Uint8Array` views of
 *   a copy the reader took from the rings in batches (one copy per ring per batch, the space
 *   given back at once), valid after later calls. `batches()` hands out arrays of owned
 *   {@link RingRecord}s on the same copies, a promise per batch rather than per record and no
 *   typed array per record: the fast way to loop over records as they come.
 *
 * ```ts
 * using events = BpfMap.create({ type: 'ringbuf', maxEntries: 1 << 20 });
 * using reader = new RingBuffer(events);
 * reader.consume((record) => (total += record.u64n(0))); // what is there now, no copies
 * for await (const records of reader.batches()) for (const r of records) handle(r.decode(codec));
 * ```
 *
 * The reader holds its own fds (duplicates) and closes with the `BpfMap` it was made from:
 * closing either one resolves pending `wait()` calls and ends `for await` loops; later calls
 * throw `ClosedError`.
 */
export class RingBuffer extends EventReader<Uint8Array, RingRecord> {
  /** Size of the first ring's data area in bytes (its map's maxEntries). */
  readonly size: number;
  #rings: Ring[] = [];
  /**
   * The batch `next()` hands out: the bytes of the rings' records (headers included), copied by
   * `sys.ringbufDrain` into a chunk of memory ours, each record's offset and length in it, and
   * how many records it holds and gave out. A record is made only when `next()` returns it: a
   * small object on the chunk's shared views. Batches follow each other in a chunk; the bytes of
   * batches whose records were handed out (`#kept`) are never written again.
   */
  #batch = new ArrayBuffer(0);
  readonly #spans = new U32(2 * BATCH);
  #batchCount = 0;
  #taken = 0;
  /** Bytes of the chunk that records handed out may read (they are not reused). */
  #kept = 0;
  /** Where the current batch ends in the chunk. */
  #end = 0;
  /** Whether `next()` handed out a record of the current batch. */
  #batchShared = false;
  /** The views of the chunk, made on the first record read from it. */
  #batchArea: Area | undefined;
  /** The facade `nextTransient()` points into the batch, made on its first use of the chunk. */
  #batchRecord: Record | undefined;
  /** The view `decoded()` hands codecs, over the chunk, made on its first use of it. */
  #batchView: DataView | undefined;

  /** Reads `map`; `handler`, if given, is the one `consume` gives this ring's records to. */
  constructor(map: RingBufferMap, handler?: RingRecordHandler) {
    checkRingMap(map, handler);
    const fd = dupRing(map);
    super(fd, 'ring buffer', map);
    this.size = map.maxEntries;
    try {
      this.#rings.push(mapRing(map, fd, handler));
    } catch (error) {
      this.close();
      throw error;
    }
    this.readiness.add(fd);
  }

  /**
   * Reads `map` too (another ringbuf map), after the rings added before it. `handler`, if given,
   * receives its records in `consume`; otherwise they go to the handler `consume` is given.
   */
  add(map: RingBufferMap, handler?: RingRecordHandler): this {
    this.check();
    checkRingMap(map, handler);
    const fd = dupRing(map);
    this.own(fd);
    this.#rings.push(mapRing(map, fd, handler));
    this.readiness.add(fd);
    return this;
  }

  /** Bytes produced and not yet consumed in all rings (headers included). */
  get available(): number {
    this.check();
    let bytes = 0;
    for (const ring of this.#rings) bytes += toNumber(atomicsLoad(ring.prodPos, 0)) - ring.cons;
    return bytes;
  }

  /**
   * The zero-copy path: calls the handlers for every record committed so far (up to `limit`),
   * ring by ring, with a {@link RingRecord} reading the kernel's memory in place; rings added
   * without a handler of their own use `handler`. Returns how many records were handed out. Each
   * ring's space is given back to producers once, at the end (also when a handler throws: the
   * record it threw on counts as consumed). Closing the reader from a handler stops the walk;
   * calling `consume`/`next` from it throws.
   */
  consume(handler?: RingRecordHandler, limit = Number.POSITIVE_INFINITY): number {
    this.check();
    if (this.#batchRecord !== undefined) release(this.#batchRecord, false);
    if (handler !== undefined && typeof handler !== 'function') {
      throw new InvalidArgumentError('consume() takes a function');
    }
    const rings = this.#rings;
    for (const ring of rings) {
      if (!ring.handler && !handler) {
        throw new InvalidArgumentError(
          'consume() needs a handler: pass one, or give every ring its own (new RingBuffer(map, fn), add(map, fn))',
        );
      }
    }
    let count = 0;
    this.consuming = true;
    try {
      for (const ring of rings) {
        if (count >= limit) break;
        count += consumeRing(ring, (ring.handler ?? handler)!, limit - count);
        if (this.closed) break;
      }
    } finally {
      this.consuming = false;
    }
    return count;
  }

  protected take(): Uint8Array | undefined {
    if (this.#batchRecord !== undefined) release(this.#batchRecord, false);
    const at = this.#advance();
    if (at < 0) return undefined;
    this.#batchShared = true;
    return new U8(this.#batch, this.#spans[at]!, this.#spans[at + 1]!);
  }

  protected override takeMany(max: number): RingRecord[] | undefined {
    if (this.#batchRecord !== undefined) release(this.#batchRecord, false);
    if (!this.#ensure()) return undefined;
    const area = this.#area();
    const spans = this.#spans;
    const from = this.#taken;
    const count = Math.min(this.#batchCount - from, max);
    const records = new Array<RingRecord>(count);
    for (let i = 0; i < count; i++) {
      const at = 2 * (from + i);
      records[i] = recordIn(area, spans[at]!, spans[at + 1]!);
    }
    this.#taken = from + count;
    this.#batchShared = true;
    return records;
  }

  protected decoder<V>(codec: Codec<V>): () => V | undefined {
    return () => {
      if (this.#batchRecord !== undefined) release(this.#batchRecord, false);
      const at = this.#advance();
      if (at < 0) return undefined;
      const length = this.#spans[at + 1]!;
      if (length < codec.size) throw new RecordTooShortError(length, codec);
      // The batch is a copy in the reader's own memory: the codec may read it in place.
      this.#batchView ??= new DataView(this.#batch);
      return codec.read(this.#batchView, this.#spans[at]!);
    };
  }

  /**
   * The opt-in fast pull path: the next record as a transient {@link RingRecord}, a facade the
   * reader reuses, or undefined when none is waiting. It reads a copy the reader took from the
   * rings in batches (their space is given back at once), costs no allocation per record, and is
   * valid only until the next `nextTransient()`, `next()` or `consume()` call or `close()`: then
   * its `length` is 0 and every read throws. Keep data with `bytes()` or `copyTo()`; use `next()`
   * for records that outlive the call.
   *
   * ```ts
   * for (let r = reader.nextTransient(); r; r = reader.nextTransient()) total += r.u64n(0);
   * ```
   */
  nextTransient(): RingRecord | undefined {
    this.check();
    const at = this.#advance();
    if (at < 0) return undefined;
    this.#batchRecord ??= recordIn(this.#area());
    const record = this.#batchRecord;
    point(record, this.#spans[at]!, this.#spans[at + 1]!);
    return record;
  }

  /** The views of the batch's buffer. */
  #area(): Area {
    this.#batchArea ??= new Area(this.#batch, 0, this.#batch.byteLength);
    return this.#batchArea;
  }

  /**
   * Moves to the next record of the batch, taking a new batch when this one is used up (which
   * invalidates the transient record). Returns the record's index into `#spans`, -1 if none waits.
   */
  #advance(): number {
    return this.#ensure() ? 2 * this.#taken++ : -1;
  }

  /** Whether the batch has a record left, taking a new batch when this one is used up. */
  #ensure(): boolean {
    if (this.#taken === this.#batchCount) {
      if (this.#batchRecord !== undefined) release(this.#batchRecord, false);
      do if (!this.#refill()) return false;
      while (this.#taken === this.#batchCount);
    }
    return true;
  }

  /**
   * Takes the next batch: the committed records of the rings in turn, up to `BATCH` records, with
   * one `sys.ringbufDrain` per ring (a copy and one consumer-position store each) into the chunk
   * after the bytes kept for records handed out. Returns whether it took anything (a batch of
   * only discarded records holds none).
   */
  #refill(): boolean {
    if (this.#batchShared) this.#kept = this.#end;
    this.#batchShared = false;
    this.#end = this.#kept;
    let count = 0;
    let took = false;
    for (const ring of this.#rings) {
      if (count === BATCH) break;
      const cons = ring.cons;
      count += this.#drain(ring, count);
      took ||= ring.cons !== cons;
    }
    this.#batchCount = count;
    this.#taken = 0;
    return took;
  }

  /**
   * Drains `ring` into the chunk at the end of the batch, its records' spans after the batch's
   * `count`; starts a new chunk when the next record does not fit in this one's room, unless the
   * batch already has bytes in it. Returns the records it took.
   */
  #drain(ring: Ring, count: number): number {
    const spans = count === 0 ? this.#spans : this.#spans.subarray(2 * count);
    for (;;) {
      const n = sys.ringbufDrain(ring.consumer, ring.producer, new U8(this.#batch, this.#end), spans);
      if (n >= 0) {
        const at = this.#end;
        for (let i = 0; i < 2 * n; i += 2) spans[i]! += at;
        const cons = toNumber(ring.consPos[0]);
        this.#end += cons - ring.cons;
        ring.cons = cons;
        return n;
      }
      if (this.#end !== this.#kept) return 0; // the batch has bytes here: the next one moves
      this.#batch = new ArrayBuffer(Math.max(CHUNK_BYTES, -n));
      this.#batchArea = undefined;
      this.#batchRecord = undefined;
      this.#batchView = undefined;
      this.#kept = 0;
      this.#end = 0;
    }
  }

  protected pending(): boolean {
    if (this.#taken < this.#batchCount) return true;
    for (const ring of this.#rings) if (toNumber(atomicsLoad(ring.prodPos, 0)) > ring.cons) return true;
    return false;
  }

  protected teardown(): void {
    if (this.#batchRecord !== undefined) release(this.#batchRecord, true);
    for (const ring of this.#rings) {
      release(ring.record, true);
      sys.munmap(ring.consumer);
      sys.munmap(ring.producer);
    }
    this.#rings = [];
  }
}

/** Records `next()` takes at most per batch. */
const BATCH = 1024;
/**
 * Bytes of a chunk batches are copied into (a larger single record gets a chunk of its size).
 * A record `next()` or `batches()` handed out keeps its whole chunk alive (`slice()` or `bytes()`
 * copies one out of it).
 */
const CHUNK_BYTES = 1 << 18;

/**
 * Hands `ring`'s committed records to `handler`, at most `limit`; publishes the consumer position
 * once at the end (also when `handler` throws). Returns the number handed out.
 */
function consumeRing(ring: Ring, handler: RingRecordHandler, limit: number): number {
  const { record, mask, walk } = ring;
  const start = ring.cons;
  let cons = start;
  let count = 0;
  let prod = toNumber(atomicsLoad(ring.prodPos, 0));
  try {
    // The walk goes in chunks: V8 then optimizes `walk` as a whole function, with the handler
    // and the record's getters inlined, instead of compiling this loop on stack replacement.
    while (cons < prod && count < limit) {
      const max = Math.min(limit - count, CHUNK);
      cons = walk(cons, prod, handler, max);
      count += walked;
      if (isClosed(record)) break; // closed by the handler
      if (cons >= prod) prod = toNumber(atomicsLoad(ring.prodPos, 0));
      else if (walked < max) break; // stopped at a record still being written (BUSY)
    }
  } catch (error) {
    // The record whose handler threw counts as consumed, like those before it.
    cons = Math.max(endOf(record, walkFrom, mask), cons);
    throw error;
  } finally {
    release(record, false);
    if (!isClosed(record) && cons !== start) {
      ring.cons = cons;
      atomicsStore(ring.consPos, 0, toBigInt(cons));
    }
  }
  return count;
}
