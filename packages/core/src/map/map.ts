/**
 * `BpfMap`, the live kernel map: its shape, the single-element calls (kept here, written for
 * speed: no allocation beyond the decoded result), and the calls that delegate to the modules
 * beside it: creating (`create.ts`), opening (`open.ts`), walking (`iterate.ts`), batches
 * (`batch.ts`) and mapped memory (`memory.ts`). Codecs and scratch buffers: `elements.ts`.
 */
import * as sys from '@ebpf/sys';
import { MapFlags, UpdateFlags } from '@ebpf/uapi';
import type { Codec } from '../codec/codec.ts';
import { InvalidArgumentError } from '../errors.ts';
import { fdFromId, type MapInfo, mapInfo, objectIds } from '../object-info.ts';
import { getPinned, PinnableObject } from '../pin.ts';
import {
  type BatchReadOptions,
  deleteBatch,
  readBatch,
  readBatchDecodedInto,
  readBatchInto,
  updateBatch,
} from './batch.ts';
import type { MapBatchCursor } from './batch-cursor.ts';
import { createFromSpec } from './create.ts';
import {
  chooseCodecs,
  copyBytes,
  type ElementCodecs,
  ElementSlots,
  MapElements,
  type MapShape,
} from './elements.ts';
import { elementError, fdValueError, freezeError } from './errors.ts';
import { requireKeys, requireKind } from './guards.ts';
import { clearMap, walkEntries, walkKeys } from './iterate.ts';
import type { OpenedKey, OpenedValue, SetValue, SpecKey, SpecValue } from './key-value-types.ts';
import { mapTypeLabel } from './map-types.ts';
import { type MapMemory, mapMemory } from './memory.ts';
import { createObjectMap, isObjectMapSpec, type ObjectMapSpec } from './object-spec.ts';
import { dupMapFd, inspectMapFd, listMaps, type OpenOptions, type PinOpenOptions } from './open.ts';
import { freezeMap } from './ops.ts';
import { type GetOptions, type SetOptions, updateFlags } from './options.ts';
import type { MapCreateOptions } from './spec.ts';

const F_LOCK = UpdateFlags.FLock;
const {
  Lookup: LOOKUP,
  Update: UPDATE,
  Delete: DELETE,
  NextKey: NEXT_KEY,
  LookupAndDelete: LOOKUP_AND_DELETE,
} = sys.MapOp;

/** Raw calls take the kernel's flags as a number: a u32 (every element flag fits). */
function checkFlags(flags: number): void {
  if (flags >>> 0 !== flags) {
    throw new InvalidArgumentError(`flags must be a 32-bit unsigned integer, got ${flags}`);
  }
}
const F_RDONLY = MapFlags.Rdonly;

/**
 * A BPF map: a kernel key/value store shared with BPF programs, with an interface like
 * JavaScript's `Map`. Keys and values are `Uint8Array`s unless codecs say otherwise:
 * ```ts
 * using counts = BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 1024 });
 * counts.set(1, 10n);
 * counts.get(1); // 10n
 * for (const [k, v] of counts) console.log(k, v);
 * ```
 * Per-CPU maps read and write one value per possible CPU. The map owns its fd: close it with
 * `close()` or `using`; a finalizer closes forgotten ones.
 */
export class BpfMap<K = Uint8Array, V = Uint8Array> extends PinnableObject {
  /** `BPF_MAP_TYPE_*` number. */
  readonly type: number;
  /** 'hash', 'percpu_array'... or 'map type N' for types this library does not know. */
  readonly typeName: string;
  readonly keySize: number;
  /** Size of one value (for per-CPU maps: of one CPU's value). */
  readonly valueSize: number;
  readonly maxEntries: number;
  /** BPF_F_* flags the map was created with. */
  readonly flags: number;
  readonly name: string;
  /** Codec of keys. */
  readonly keyCodec: Codec<K>;
  /** Codec of values (for per-CPU maps, of the array of per-CPU values). */
  readonly valueCodec: Codec<V>;
  /** Bytes of one value in buffers: `valueSize`, or for per-CPU maps 8-byte-rounded × possible CPUs. */
  readonly valueBufferSize: number;
  /** Values are one per possible CPU. */
  readonly perCpu: boolean;

  readonly #el: MapElements<K, V>;
  /** Where the single-element calls encode, made by the first of them (see `ElementSlots`). */
  #slots: ElementSlots | undefined;
  #memory: MapMemory | undefined;
  #frozen = false;

  private constructor(fd: number, shape: MapShape, codecs: ElementCodecs<K, V>) {
    super(fd, 'map');
    this.#el = new MapElements<K, V>(shape, codecs);
    this.type = shape.type;
    this.typeName = mapTypeLabel(shape.type);
    this.keySize = shape.keySize;
    this.valueSize = shape.valueSize;
    this.maxEntries = shape.maxEntries;
    this.flags = shape.flags;
    this.name = shape.name;
    this.keyCodec = codecs.keyCodec;
    this.valueCodec = codecs.valueCodec;
    this.valueBufferSize = codecs.valueBufferSize;
    this.perCpu = codecs.perCpu;
  }

  // ---------------------------------------------------------------------------------------------
  // Creating and opening

  /**
   * Creates a map. `type` is a name ('hash', 'lru_percpu_hash', 'ringbuf'...) or a `MapType`
   * number; sizes default to the sizes of the `key`/`value` codecs. The spec is checked against the
   * type's rules first (`InvalidArgumentError` names the problem); a type the kernel lacks throws
   * `NotSupportedError`. An object's `MapSpec` (`CollectionSpec.maps.x`) is created with the
   * contents it declares (global data written, `.rodata` frozen); prog array and map-of-maps
   * slots naming programs are left to `Collection.load`.
   */
  static create(spec: ObjectMapSpec): BpfMap;
  static create<const S extends MapCreateOptions>(spec: S): BpfMap<SpecKey<S>, SpecValue<S>>;
  static create<K, V>(spec: MapCreateOptions | ObjectMapSpec): BpfMap<K, V> {
    // An object's map spec (CollectionSpec.maps.x) is created with the contents it declares.
    if (spec !== null && typeof spec === 'object' && isObjectMapSpec(spec))
      return createObjectMap(spec) as BpfMap<unknown, unknown> as BpfMap<K, V>;
    const created = createFromSpec(spec);
    return BpfMap.#own(created.fd, created.spec, spec);
  }

  /** Wraps `fd`, which the new map owns (closing it if the codecs are refused). */
  static #own<K, V>(fd: number, shape: MapShape, options: OpenOptions): BpfMap<K, V> {
    try {
      return new BpfMap<K, V>(fd, shape, chooseCodecs(shape, options.key, options.value));
    } catch (error) {
      sys.close(fd);
      throw error;
    }
  }

  /**
   * A map object for an fd someone else owns: the fd is duplicated, so the caller keeps (and must
   * close) theirs. Type and sizes come from the kernel; codecs from `options`.
   */
  static fromFd<const O extends OpenOptions>(fd: number, options?: O): BpfMap<OpenedKey<O>, OpenedValue<O>>;
  static fromFd<K, V>(fd: number, options?: OpenOptions): BpfMap<K, V>;
  static fromFd<K, V>(fd: number, options: OpenOptions = {}): BpfMap<K, V> {
    const dup = dupMapFd(fd);
    return BpfMap.#own<K, V>(dup, inspectMapFd(dup, `fd ${fd}`), options);
  }

  /** Opens the map pinned at `path` (on a BPF file system). */
  static fromPin<const O extends PinOpenOptions>(
    path: string,
    options?: O,
  ): BpfMap<OpenedKey<O>, OpenedValue<O>>;
  static fromPin<K, V>(path: string, options?: PinOpenOptions): BpfMap<K, V>;
  static fromPin<K, V>(path: string, options: PinOpenOptions = {}): BpfMap<K, V> {
    const fd = getPinned(path, 'map', options.readonly ? F_RDONLY : 0);
    return BpfMap.#own<K, V>(fd, inspectMapFd(fd, path), options).openedFrom(path);
  }

  /** Opens the map with kernel-wide id `id` (see `BpfMap.ids()`). */
  static fromId<const O extends OpenOptions>(id: number, options?: O): BpfMap<OpenedKey<O>, OpenedValue<O>>;
  static fromId<K, V>(id: number, options?: OpenOptions): BpfMap<K, V>;
  static fromId<K, V>(id: number, options: OpenOptions = {}): BpfMap<K, V> {
    const fd = fdFromId('map', id);
    return BpfMap.#own<K, V>(fd, inspectMapFd(fd, `map id ${id}`), options);
  }

  /** Ids of every map on the system. */
  static ids(): number[] {
    return [...objectIds('map')];
  }

  /** `info()` of every map on the system (maps freed while listing are skipped). */
  static list(): MapInfo[] {
    return listMaps();
  }

  /** A second, independent `BpfMap` on the same kernel map (a duplicated fd), with the same codecs. */
  clone(): BpfMap<K, V> {
    return new BpfMap<K, V>(this.dupFd(), this, this.#el);
  }

  // ---------------------------------------------------------------------------------------------
  // Element access: the hot paths

  #makeSlots(fd: number): ElementSlots {
    this.#slots = new ElementSlots(fd);
    return this.#slots;
  }

  /** The value at `key`, or undefined when there is none. */
  get(key: K, options?: GetOptions): V | undefined {
    const fd = this.fd;
    const el = this.#el;
    requireKeys(el.info, el.label, 'get');
    const s = this.#slots ?? this.#makeSlots(fd);
    el.putKey(key, s);
    let found: boolean | undefined;
    try {
      found = s.call(LOOKUP, options?.lock ? F_LOCK : 0, 0);
    } catch (error) {
      throw elementError(error, `looking up a key in ${el.label}`, this.maxEntries);
    }
    return found ? el.readValue(s) : undefined;
  }

  /**
   * Raw lookup without allocation: copies the value at `key` into `out` (`valueBufferSize` bytes)
   * and returns true, or returns false when there is none. Reuse `key` and `out` across calls.
   */
  lookupInto(key: Uint8Array, out: Uint8Array, flags = 0): boolean {
    const fd = this.fd;
    const el = this.#el;
    el.checkRaw(key, this.keySize, 'key');
    el.checkRaw(out, this.valueBufferSize, 'out');
    checkFlags(flags);
    const s = this.#slots ?? this.#makeSlots(fd);
    copyBytes(s.key, key);
    let found: boolean | undefined;
    try {
      found = s.call(LOOKUP, flags, 0);
    } catch (error) {
      throw elementError(error, `looking up a key in ${el.label}`, this.maxEntries);
    }
    if (found) copyBytes(out, s.value);
    return found === true;
  }

  /** Whether `key` is present (for bloom filters: whether the value may have been pushed). */
  has(key: K): boolean {
    const fd = this.fd;
    const el = this.#el;
    const s = this.#slots ?? this.#makeSlots(fd);
    if (el.info?.name === 'bloom_filter') {
      el.putValue(key as unknown as V, s);
      try {
        return s.call(LOOKUP, 0, 1) as boolean;
      } catch (error) {
        throw elementError(error, `checking ${el.label}`, this.maxEntries);
      }
    }
    requireKeys(el.info, el.label, 'has');
    el.putKey(key, s);
    try {
      return s.call(LOOKUP, 0, 0) as boolean;
    } catch (error) {
      throw elementError(error, `looking up a key in ${el.label}`, this.maxEntries);
    }
  }

  /**
   * Stores `value` at `key`. `flags: 'noExist'` fails (EEXIST) when the key exists, `'exist'`
   * fails (`NotFoundError`) when it does not; `lock: true` writes under the value's spin lock.
   */
  set(key: K, value: SetValue<V>, options?: SetOptions): this {
    const fd = this.fd;
    const el = this.#el;
    requireKeys(el.info, el.label, 'set');
    const flags = updateFlags(options);
    const s = this.#slots ?? this.#makeSlots(fd);
    el.putKey(key, s);
    el.putValue(value as V, s);
    try {
      s.call(UPDATE, flags, 0);
    } catch (error) {
      if (flags & F_LOCK && (error as { code?: string }).code === 'EINVAL') {
        throw new InvalidArgumentError(
          `updating ${el.label} with flags 'lock': its value has no bpf_spin_lock (the map needs BTF describing one)`,
          { cause: error, code: 'EINVAL' },
        );
      }
      throw this.#updateError(error, s);
    }
    return this;
  }

  /** Raw update without allocation: `key` of `keySize` bytes, `value` of `valueBufferSize` bytes. */
  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    const fd = this.fd;
    const el = this.#el;
    el.checkRaw(key, this.keySize, 'key');
    el.checkRaw(value, this.valueBufferSize, 'value');
    checkFlags(flags);
    const s = this.#slots ?? this.#makeSlots(fd);
    copyBytes(s.key, key);
    copyBytes(s.value, value);
    try {
      s.call(UPDATE, flags, 0);
    } catch (error) {
      throw this.#updateError(error, s);
    }
  }

  /** Words a failed update from what the slots held (for fd maps, the fd stored). */
  #updateError(error: unknown, s: ElementSlots): Error {
    const el = this.#el;
    const what = `updating ${el.label}`;
    if (el.info?.fdValues)
      return fdValueError(error, what, el.info.fdValues, s.valueView.getUint32(0, true), this.maxEntries);
    return elementError(error, what, this.maxEntries);
  }

  /** Removes `key`; false when it was not there. Plain arrays cannot delete (their elements always exist). */
  delete(key: K): boolean {
    const fd = this.fd;
    const el = this.#el;
    requireKeys(el.info, el.label, 'delete');
    if (el.info?.fixedEntries) {
      throw new InvalidArgumentError(
        `delete: elements of ${el.label} always exist and cannot be deleted; set a zero value or call clear()`,
      );
    }
    const s = this.#slots ?? this.#makeSlots(fd);
    el.putKey(key, s);
    try {
      return s.call(DELETE, 0, 0) as boolean;
    } catch (error) {
      throw elementError(error, `deleting from ${el.label}`, this.maxEntries);
    }
  }

  /** Raw delete of a `keySize`-byte key; false when it was not there. */
  deleteRaw(key: Uint8Array): boolean {
    const fd = this.fd;
    const el = this.#el;
    el.checkRaw(key, this.keySize, 'key');
    const s = this.#slots ?? this.#makeSlots(fd);
    copyBytes(s.key, key);
    try {
      return s.call(DELETE, 0, 0) as boolean;
    } catch (error) {
      throw elementError(error, `deleting from ${el.label}`, this.maxEntries);
    }
  }

  /**
   * Looks up `key` and removes it in one step (hash maps on Linux 5.14+); undefined when absent.
   */
  getAndDelete(key: K): V | undefined {
    const fd = this.fd;
    const el = this.#el;
    requireKeys(el.info, el.label, 'getAndDelete');
    const s = this.#slots ?? this.#makeSlots(fd);
    el.putKey(key, s);
    let found: boolean | undefined;
    try {
      found = s.call(LOOKUP_AND_DELETE, 0, 0);
    } catch (error) {
      throw elementError(error, `looking up and deleting a key of ${el.label}`, this.maxEntries);
    }
    return found ? el.readValue(s) : undefined;
  }

  /** The raw key after `key` (or the first key for null) into `out`; false at the end. */
  nextKeyInto(key: Uint8Array | null, out: Uint8Array): boolean {
    const fd = this.fd;
    const el = this.#el;
    if (key !== null) el.checkRaw(key, this.keySize, 'key');
    el.checkRaw(out, this.keySize, 'out');
    const s = this.#slots ?? this.#makeSlots(fd);
    if (key !== null) copyBytes(s.key, key);
    let found: boolean | undefined;
    try {
      found = s.call(NEXT_KEY, 0, key === null ? 1 : 0);
    } catch (error) {
      throw elementError(error, `walking the keys of ${el.label}`, this.maxEntries);
    }
    if (found) copyBytes(out, s.nextKey);
    return found === true;
  }

  // ---------------------------------------------------------------------------------------------
  // Queue, stack, bloom filter

  /**
   * Queue and stack: adds `value` (with `flags: 'exist'`, a full map drops its oldest element
   * instead of failing). Bloom filter: adds `value` to the set.
   */
  push(value: V, options?: { readonly flags?: 'any' | 'exist' }): void {
    const fd = this.fd;
    const el = this.#el;
    requireKind(el.info, el.label, 'push', 'queue', 'stack', 'bloom_filter');
    const flags = options?.flags === 'exist' ? UpdateFlags.Exist : UpdateFlags.Any;
    const s = this.#slots ?? this.#makeSlots(fd);
    el.putValue(value, s);
    try {
      s.call(UPDATE, flags, 1);
    } catch (error) {
      throw elementError(error, `pushing to ${el.label}`, this.maxEntries);
    }
  }

  /** Queue and stack: removes and returns the next element, or undefined when empty. */
  pop(): V | undefined {
    const fd = this.fd;
    const el = this.#el;
    requireKind(el.info, el.label, 'pop', 'queue', 'stack');
    const s = this.#slots ?? this.#makeSlots(fd);
    let found: boolean | undefined;
    try {
      found = s.call(LOOKUP_AND_DELETE, 0, 1);
    } catch (error) {
      throw elementError(error, `popping from ${el.label}`, this.maxEntries);
    }
    return found ? el.readValue(s) : undefined;
  }

  /** Queue and stack: the next element without removing it, or undefined when empty. */
  peek(): V | undefined {
    const fd = this.fd;
    const el = this.#el;
    requireKind(el.info, el.label, 'peek', 'queue', 'stack');
    const s = this.#slots ?? this.#makeSlots(fd);
    let found: boolean | undefined;
    try {
      found = s.call(LOOKUP, 0, 1);
    } catch (error) {
      throw elementError(error, `peeking at ${el.label}`, this.maxEntries);
    }
    return found ? el.readValue(s) : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Iteration (iterate.ts)

  /** The keys, decoded. Safe while entries are deleted (see `entries()`). */
  *keys(): Generator<K, void, undefined> {
    const el = this.#el;
    for (const raw of walkKeys(this, el, 'keys')) yield el.decodeKey(raw);
  }

  /** The values. Keys that vanish between the walk and the lookup are skipped. */
  *values(): Generator<V, void, undefined> {
    for (const [, value] of this.entries()) yield value;
  }

  /**
   * `[key, value]` pairs. The walk is safe while entries are deleted, by you or by BPF programs:
   * it never yields a key twice and always ends; keys added during the walk may or may not show up.
   */
  entries(): Generator<[K, V], void, undefined> {
    return walkEntries(this, this.#el);
  }

  /** Same as `entries()`: `for (const [key, value] of map)`, `new Map(map)`. */
  [Symbol.iterator](): Generator<[K, V], void, undefined> {
    return this.entries();
  }

  /** Calls `fn` for each entry, like `Map.prototype.forEach`. */
  forEach(fn: (value: V, key: K, map: this) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }

  /**
   * The number of entries where it is known without a walk: `maxEntries` for arrays (their
   * elements always exist); undefined for other types (use `count()`).
   */
  get size(): number | undefined {
    return this.#el.info?.fixedEntries ? this.maxEntries : undefined;
  }

  /** Counts the entries by walking the keys (one syscall per key). */
  count(): number {
    if (this.#el.info?.fixedEntries) return this.maxEntries;
    let n = 0;
    for (const _ of walkKeys(this, this.#el, 'count')) n++;
    return n;
  }

  /**
   * Removes every entry. Arrays are zeroed instead (their elements cannot be removed); queues and
   * stacks are drained. Bloom filters cannot be cleared.
   */
  clear(): void {
    clearMap(this, this.#el);
  }

  // ---------------------------------------------------------------------------------------------
  // Batch operations (batch.ts)

  /**
   * Raw batch read without allocation: up to `count` entries into `keys` (count × keySize bytes)
   * and `values` (count × valueBufferSize bytes), continuing where `cursor` stopped. Returns how
   * many were read; `cursor.done` turns true at the end of the map. Throws `NotSupportedError`
   * for map types without BPF_MAP_LOOKUP_BATCH.
   */
  lookupBatchInto(cursor: MapBatchCursor, keys: Uint8Array, values: Uint8Array, count?: number): number {
    return readBatchInto(this, this.#el, 'lookup', cursor, keys, values, count);
  }

  /** Like `lookupBatchInto`, and deletes what it read (BPF_MAP_LOOKUP_AND_DELETE_BATCH). */
  lookupAndDeleteBatchInto(
    cursor: MapBatchCursor,
    keys: Uint8Array,
    values: Uint8Array,
    count?: number,
  ): number {
    return readBatchInto(this, this.#el, 'lookupAndDelete', cursor, keys, values, count);
  }

  /**
   * One BPF_MAP_LOOKUP_BATCH call decoded into your arrays: up to `count` entries (default
   * `keys.length`) land in `keys[0..n)` and `values[0..n)`; returns n, and `cursor.done` once the
   * walk reached the end. Reuse the arrays and the cursor: with number codecs nothing is allocated
   * per entry, which makes this the fast way to read a whole map (`getBatch` builds a pair per
   * entry). Throws `NotSupportedError` for map types without batch commands.
   */
  getBatchInto(cursor: MapBatchCursor, keys: K[], values: V[], count?: number): number {
    return readBatchDecodedInto(this, this.#el, 'lookup', cursor, keys, values, count);
  }

  /** Like `getBatchInto`, and removes what it read (BPF_MAP_LOOKUP_AND_DELETE_BATCH). */
  getAndDeleteBatchInto(cursor: MapBatchCursor, keys: K[], values: V[], count?: number): number {
    return readBatchDecodedInto(this, this.#el, 'lookupAndDelete', cursor, keys, values, count);
  }

  /**
   * Reads entries with BPF_MAP_LOOKUP_BATCH, `batchSize` per kernel call: the whole map, or with
   * `cursor` one call's worth per `getBatch` (check `cursor.done`). Falls back to walking keys for
   * map types without batch commands.
   */
  getBatch(options: BatchReadOptions = {}): Array<[K, V]> {
    return readBatch(this, this.#el, 'lookup', options);
  }

  /** Like `getBatch`, and removes what it read (BPF_MAP_LOOKUP_AND_DELETE_BATCH). */
  getAndDeleteBatch(options: BatchReadOptions = {}): Array<[K, V]> {
    return readBatch(this, this.#el, 'lookupAndDelete', options);
  }

  /**
   * Writes many entries with BPF_MAP_UPDATE_BATCH (one kernel call per `batchSize`), or one by one
   * for map types without it. Returns the number written.
   */
  setBatch(
    entries: Iterable<readonly [K, V]>,
    options?: SetOptions & { readonly batchSize?: number },
  ): number {
    return updateBatch(this, this.#el, entries, options);
  }

  /**
   * Deletes many keys with BPF_MAP_DELETE_BATCH, or one by one for map types without it. Returns
   * the number deleted. A missing key stops it with `KeyNotFoundError` (code ENOENT), which names
   * the key's index: the keys before it were deleted.
   */
  deleteBatch(keys: Iterable<K>, options?: { readonly batchSize?: number }): number {
    return deleteBatch(this, this.#el, keys, options);
  }

  // ---------------------------------------------------------------------------------------------
  // Object operations

  /** Makes the map read-only for user space (BPF_MAP_FREEZE); programs may still write unless RDONLY_PROG. */
  freeze(): void {
    const fd = this.fd;
    try {
      freezeMap(fd);
      this.#frozen = true;
    } catch (error) {
      throw freezeError(error, this.#el.label, fd);
    }
  }

  /** What the kernel reports about this map (`bpf_map_info`): id, type, sizes, flags, name, BTF ids. */
  info(): MapInfo {
    return mapInfo(this.fd);
  }

  /** The kernel-wide id of this map. */
  get id(): number {
    return this.info().id;
  }

  /**
   * Maps a `BPF_F_MMAPABLE` array's values (or an arena's pages) into this process: typed views straight onto kernel
   * memory (see `MapMemory`). One mapping per map object; unmapped when the map closes.
   */
  memory(): MapMemory {
    void this.fd; // throws when closed
    if (this.#memory && !this.#memory.closed) return this.#memory;
    this.#memory = mapMemory(this, this.#el, this.#frozen);
    return this.#memory;
  }

  /** Closes the map's fd (and unmaps `memory()`). Pins and programs keep the kernel map alive. */
  override close(): void {
    this.#memory?.close();
    this.#memory = undefined;
    super.close();
  }

  /** 'BpfMap(hash "name", fd 12)' */
  override toString(): string {
    return `BpfMap(${this.typeName}${this.name ? ` "${this.name}"` : ''}, ${this.closed ? 'closed' : `fd ${this.fd}`})`;
  }
}
