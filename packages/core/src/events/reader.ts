import * as sys from '@ebpf/sys';
import { type Codec, type CodecLike, type CodecType, resolveCodec } from '../codec/codec.ts';
import { BpfError, ClosedError, InvalidArgumentError } from '../errors.ts';
import { KernelObject, onClose } from '../kernel-object.ts';
import { Readiness } from './readiness.ts';

/** Closes the further fds of a reader dropped without `close()` (mappings go with their buffers). */
const forgotten = new FinalizationRegistry<number[]>((fds) => {
  for (const fd of fds) {
    try {
      sys.close(fd);
    } catch {
      // Nothing to report to: the reader is gone.
    }
  }
});

/** Records a batch of `batches()` holds at most unless told otherwise. */
const BATCH_MAX = 1024;

/** At least one and at most `max` of what `take` gives, or undefined when it gives nothing. */
export function takeEach<T>(take: () => T | undefined, max: number): T[] | undefined {
  const first = take();
  if (first === undefined) return undefined;
  const records = [first];
  while (records.length < max) {
    const record = take();
    if (record === undefined) break;
    records.push(record);
  }
  return records;
}

/** What the async iterator gives once the reader is closed. */
const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/**
 * What the ring and perf buffer readers share: the fd they own (a duplicate of their map's),
 * closing with that map, waiting on the event loop, `next()` and `for await` over batches of copies, and the rule
 * that a reader is not re-entered from its own `consume` callback.
 */
export abstract class EventReader<T, B = T> extends KernelObject implements AsyncIterable<T> {
  /** Readiness of every fd the reader reads (each subclass adds its own). */
  protected readonly readiness: Readiness;
  /** A `consume` callback is running (no re-entry: it would hand out the same records again). */
  protected consuming = false;
  readonly #name: string;
  /** Fds the reader holds besides its own (more ring maps, perf events), closed with it. */
  readonly #owned: number[] = [];
  #unfollow: (() => void) | undefined;

  /** `name` is the reader's kind in messages ("ring buffer"); `map` is followed when it closes. */
  protected constructor(fd: number, name: string, map: object) {
    super(fd, name);
    this.#name = name;
    this.readiness = new Readiness(`waiting on the ${name}`);
    forgotten.register(this, this.#owned, this);
    // Weakly: a reader dropped without close() is still collected while its map lives.
    const self = new WeakRef(this);
    if (map instanceof KernelObject) this.#unfollow = onClose(map, () => self.deref()?.close());
  }

  /**
   * The next record as a copy, from the batch taken last or from a new batch (whose space in the
   * kernel's memory is given back at once), or undefined when none is waiting.
   */
  protected abstract take(): T | undefined;

  /**
   * A function giving the next record decoded by `codec`, or undefined when none is waiting;
   * taken from the kernel's memory in batches, like `take`.
   */
  protected abstract decoder<V>(codec: Codec<V>): () => V | undefined;

  /**
   * The records waiting now, as copies, at least one and at most `max` (a batch taken from the
   * kernel's memory at once where the reader can), or undefined when none is waiting.
   */
  protected abstract takeMany(max: number): B[] | undefined;

  /** Whether a record is waiting: in the batch taken last, or in the kernel's memory. */
  protected abstract pending(): boolean;

  /**
   * The next record as a copy you own, or undefined when there is none yet. Records are taken
   * from the kernel's memory in batches (their space is given back at once), so this costs about
   * a copy per record; `consume` is the zero-copy, allocation-free path.
   */
  next(): T | undefined {
    this.check();
    return this.take();
  }

  /** Gives back what the subclass holds (mappings, further fds); called once, by `close()`. */
  protected abstract teardown(): void;

  /** Takes `fd` into the reader's keeping: it is closed with the reader (or by its finalizer). */
  protected own(fd: number): void {
    this.#owned.push(fd);
  }

  /** Throws unless the reader is open and outside a `consume` callback. */
  protected check(): void {
    if (this.closed) throw new ClosedError(`this ${this.#name} reader is closed`);
    if (this.consuming) {
      throw new BpfError(`this ${this.#name} reader is inside a consume() callback; return from it first`);
    }
  }

  /**
   * Resolves when the kernel says records are waiting (at once if some are), or when the reader
   * (or the map it reads) is closed meanwhile. Any number of calls may wait at once; all settle.
   */
  wait(): Promise<void> {
    this.check();
    if (this.pending()) return Promise.resolve();
    return this.readiness.wait();
  }

  /**
   * Records as they come, each a copy you own, waiting on the event loop (no thread, no busy
   * loop) when there are none. Ends, without an error, when the reader or the map it was made
   * from is closed (calls of `next()`, `wait()` and `consume()` after that throw `ClosedError`).
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this.#iterate(() => this.take());
  }

  /**
   * Records as they come, in arrays: each holds the records waiting when it was made (at most
   * `max`, default 1024), copies you own (a ring buffer's as owned `RingRecord`s, read by their
   * getters without a typed array made per record), and the loop waits on the event loop only
   * when none is waiting. The fast way to loop over records as they come: `for await` pays a
   * promise and a microtask turn per iteration, here per batch instead of per record. Ends like
   * `for await (const record of reader)`.
   *
   * ```ts
   * for await (const records of reader.batches()) for (const record of records) handle(record);
   * ```
   */
  batches(max = BATCH_MAX): AsyncIterableIterator<B[]> {
    this.check();
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new InvalidArgumentError(`batches(max) takes a positive integer, not ${String(max)}`);
    }
    return this.#iterate(() => this.takeMany(max));
  }

  /**
   * Records as they come, each decoded by `codec` (a codec or a built-in codec's name), waiting
   * on the event loop like `for await (const record of reader)` and ending the same way. Records
   * are decoded where the reader batched them, without a copy or a view per record; one shorter
   * than `codec.size` rejects the loop with a `RecordTooShortError` naming both sizes (the
   * records before it are given first, those after it stay for the next call).
   *
   * ```ts
   * for await (const event of reader.decoded(eventCodec)) console.log(event.pid, event.comm);
   * ```
   */
  decoded<C extends CodecLike>(codec: C): AsyncIterableIterator<CodecType<C>> {
    this.check();
    return this.#iterate(this.decoder(resolveCodec(codec)));
  }

  /** An async iterator over what `take` gives, waiting on the event loop while it gives nothing. */
  #iterate<V>(take: () => V | undefined): AsyncIterableIterator<V> {
    // A plain iterator rather than an async generator: a generator's `yield` costs extra
    // promise turns per record, this one a single resolved promise while records are waiting.
    const iterator: AsyncIterableIterator<V> = {
      next: (): Promise<IteratorResult<V, undefined>> => {
        if (this.closed) return Promise.resolve(DONE);
        try {
          this.check();
          const value = take();
          if (value !== undefined) return Promise.resolve({ value, done: false });
          return this.wait().then(() => iterator.next());
        } catch (error) {
          return Promise.reject(error);
        }
      },
      return: () => Promise.resolve(DONE),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Stops waiting, gives back the mappings and closes every fd the reader holds. The map stays
   * open. Allowed from a `consume` callback (the walk stops after it).
   */
  override close(): void {
    if (this.closed) return;
    this.readiness.close(); // before the fds it watches
    this.#unfollow?.();
    this.#unfollow = undefined;
    this.teardown();
    forgotten.unregister(this);
    for (const fd of this.#owned) sys.close(fd);
    this.#owned.length = 0;
    super.close();
  }
}
