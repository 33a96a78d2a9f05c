import * as sys from '@ebpf/sys';
import { ClosedError, InvalidArgumentError, translateSysError } from '../errors.ts';
import { KernelObject } from '../kernel-object.ts';
import { pageSize } from './spec.ts';

const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const HEADER = 8;

/** What `RingBuffer` needs of a map: a `BpfMap` of type 'ringbuf'. */
export interface RingBufferMap {
  readonly fd: number;
  readonly typeName: string;
  readonly maxEntries: number;
}

/** Receives one record: its bytes are `view[offset, offset + length)`, valid during the call only. */
export type RingRecordHandler = (view: DataView, offset: number, length: number) => void;

/**
 * Reads a `BPF_MAP_TYPE_RINGBUF` map from user space, straight from the kernel's memory: the
 * consumer page is mapped read-write, the producer page and the data (twice, so records that wrap
 * are contiguous) read-only. Records are never copied unless you ask.
 *
 * ```ts
 * using events = BpfMap.create({ type: 'ringbuf', maxEntries: 1 << 20 });
 * using reader = new RingBuffer(events);
 * reader.consume((view, offset, length) => total += view.getUint32(offset, true)); // what is there now
 * for await (const record of reader) handle(record);  // waits on the event loop for more
 * ```
 *
 * The reader holds its own fd (a duplicate), so it lives independently of the map object.
 */
export class RingBuffer extends KernelObject implements AsyncIterable<Uint8Array> {
  /** Size of the data area in bytes (the map's maxEntries). */
  readonly size: number;
  #consumer: ArrayBuffer | undefined;
  #producer: ArrayBuffer | undefined;
  readonly #consPos: BigUint64Array;
  readonly #prodPos: BigUint64Array;
  readonly #data32: Uint32Array;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #mask: number;
  /** Consumer position (mirrors the kernel page; we are its only writer). */
  #cons: number;
  /** Position up to which records were handed out but not yet released to the kernel. */
  #pending = -1;
  #watcher: sys.FdWatcher | undefined;
  #wake: (() => void) | undefined;

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
      this.#producer = sys.mmap(fd, page + 2 * this.size, false, page);
    } catch (error) {
      if (this.#consumer) sys.munmap(this.#consumer);
      this.close();
      throw translateSysError(error, 'mapping the ring buffer');
    }
    this.#consPos = new BigUint64Array(this.#consumer, 0, 1);
    this.#prodPos = new BigUint64Array(this.#producer, 0, 1);
    this.#data32 = new Uint32Array(this.#producer, page);
    this.#view = new DataView(this.#producer, page);
    this.#bytes = new Uint8Array(this.#producer, page);
    this.#cons = Number(this.#consPos[0]);
  }

  #check(): void {
    if (this.#consumer === undefined) throw new ClosedError('this ring buffer reader is closed');
  }

  #producerPos(): number {
    return Number(Atomics.load(this.#prodPos, 0));
  }

  #publish(pos: number): void {
    Atomics.store(this.#consPos, 0, BigInt(pos));
  }

  /** Releases records handed out by the iterator or `next()`. */
  #release(): void {
    if (this.#pending >= 0) {
      this.#publish(this.#pending);
      this.#pending = -1;
    }
  }

  /** Bytes produced and not yet consumed (headers included). */
  get available(): number {
    this.#check();
    return this.#producerPos() - this.#cons;
  }

  /**
   * Calls `fn` for every record committed so far (up to `limit`), without copying: the view is the
   * kernel's memory, valid during the call. Returns how many records were handed to `fn`. The space
   * is given back to producers once, at the end.
   */
  consume(fn: RingRecordHandler, limit = Number.POSITIVE_INFINITY): number {
    this.#check();
    this.#release();
    const data = this.#data32;
    const view = this.#view;
    const mask = this.#mask;
    let cons = this.#cons;
    let count = 0;
    let prod = this.#producerPos();
    while (cons < prod && count < limit) {
      const off = cons & mask;
      const len = Atomics.load(data, off >>> 2);
      if (len & BUSY) break;
      const size = len & ~(BUSY | DISCARD);
      cons += (size + HEADER + 7) & ~7;
      if (!(len & DISCARD)) {
        count++;
        fn(view, off + HEADER, size);
      }
      if (cons >= prod) {
        prod = this.#producerPos();
        if (cons >= prod) break;
      }
    }
    if (cons !== this.#cons) {
      this.#cons = cons;
      this.#publish(cons);
    }
    return count;
  }

  /**
   * The next committed record as a view onto the kernel's memory, or undefined when there is none
   * yet. The view stays valid until the next call on this reader (`next`, `consume`, iteration);
   * copy it (`.slice()`) to keep it.
   */
  next(): Uint8Array | undefined {
    this.#check();
    this.#release();
    const data = this.#data32;
    for (;;) {
      const cons = this.#cons;
      if (cons >= this.#producerPos()) return undefined;
      const off = cons & this.#mask;
      const len = Atomics.load(data, off >>> 2);
      if (len & BUSY) return undefined;
      const size = len & ~(BUSY | DISCARD);
      this.#cons = cons + ((size + HEADER + 7) & ~7);
      if (len & DISCARD) {
        this.#publish(this.#cons);
        continue;
      }
      this.#pending = this.#cons;
      return this.#bytes.subarray(off + HEADER, off + HEADER + size);
    }
  }

  /** Resolves when the kernel says records are waiting (at once if some are). */
  wait(): Promise<void> {
    this.#check();
    if (this.#producerPos() > this.#cons) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#watcher ??= new sys.FdWatcher(this.fd, (error) => {
        this.#watcher?.stop();
        const wake = this.#wake;
        this.#wake = undefined;
        if (error) reject(translateSysError(error, 'waiting on the ring buffer'));
        else wake?.();
      });
      this.#wake = resolve;
      this.#watcher.start();
    });
  }

  /**
   * Records as they come, waiting on the event loop (no thread, no busy loop) when there are none.
   * Each record is a view onto the kernel's memory, valid until the next step of the loop. Ends when
   * the reader is closed.
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

  /** Stops waiting, unmaps the ring and closes the reader's fd. The map stays open. */
  override close(): void {
    if (this.closed) return;
    this.#watcher?.close();
    this.#watcher = undefined;
    const wake = this.#wake;
    this.#wake = undefined;
    if (this.#consumer) sys.munmap(this.#consumer);
    if (this.#producer) sys.munmap(this.#producer);
    this.#consumer = undefined;
    this.#producer = undefined;
    super.close();
    wake?.();
  }
}
