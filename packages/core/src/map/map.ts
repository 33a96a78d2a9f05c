import * as sys from '@ebpf/sys';
import { MapFlags, type MapType, UpdateFlags } from '@ebpf/uapi';
import { bytes, type Codec, type CodecLike, type CodecType, resolveCodec } from '../codec/codec.ts';
import { type LpmKey, lpmKey } from '../codec/lpm.ts';
import { fdValue, type HasFd, perCpu, perCpuStride } from '../codec/per-cpu.ts';
import {
  BpfError,
  InvalidArgumentError,
  NotSupportedError,
  PermissionError,
  translateSysError,
} from '../errors.ts';
import { KernelObject } from '../kernel-object.ts';
import { fdFromId, type MapInfo, mapInfo, objectIds } from '../object-info.ts';
import { getPinned, kindOfFd, PinnableObject } from '../pin.ts';
import { elementError, isUnsupported } from './errors.ts';
import {
  findMapType,
  type MapTypeInfo,
  type MapTypeName,
  mapTypeLabel,
  type PerCpuMapTypeName,
} from './map-types.ts';
import { MapMemory } from './memory.ts';
import { type BatchCommand, batchOp, createMapFd, freezeMap } from './ops.ts';
import { type MapSpec, type NormalizedMapSpec, normalizeSpec, pageSize, possibleCpus } from './spec.ts';

/** How `set` treats an existing or missing key. */
export type UpdateMode = 'any' | 'noExist' | 'exist';

/** One update flag by name: a mode, or `'lock'` for BPF_F_LOCK. */
export type UpdateFlagName = UpdateMode | 'lock';

/** Options of `set()` and `setBatch()`. */
export interface SetOptions {
  /**
   * 'any' (default): create or replace; 'noExist': only create; 'exist': only replace; 'lock':
   * write under the value's `bpf_spin_lock`. Several as an array (`['exist', 'lock']`), or the
   * kernel's `BPF_*` bits as a number (`UpdateFlags`).
   */
  readonly flags?: UpdateFlagName | readonly UpdateFlagName[] | number;
  /** Take the value's `bpf_spin_lock` while writing (BPF_F_LOCK; the value must have one, via BTF). */
  readonly lock?: boolean;
}

/** Options of `get()`-like calls. */
export interface GetOptions {
  /** Read under the value's `bpf_spin_lock` (BPF_F_LOCK). */
  readonly lock?: boolean;
}

/** Codecs to use for a map opened from an fd, a pin or an id (sizes come from the kernel). */
export interface OpenOptions {
  readonly key?: CodecLike;
  readonly value?: CodecLike;
}

/** Options of `BpfMap.fromPin`: codecs, and whether to open the map read-only. */
export interface PinOpenOptions extends OpenOptions {
  readonly readonly?: boolean;
}

/**
 * The key type of a map opened with `options` (`fromFd`, `fromPin`, `fromId`): its key codec's
 * type, else bytes. Pass type arguments instead (`fromPin<number, bigint>(...)`) to say more,
 * such as per-CPU values.
 */
export type OpenedKey<O> = O extends { readonly key: infer C } ? CodecType<C> : Uint8Array;
/** The value type of a map opened with `options`: its value codec's type, else bytes. */
export type OpenedValue<O> = O extends { readonly value: infer C } ? CodecType<C> : Uint8Array;

/** Options of the reading batch calls. */
export interface BatchReadOptions {
  /** Elements per kernel call (default 256; at most maxEntries). */
  readonly batchSize?: number;
  /** Continue a walk: one kernel call per `getBatch`, the cursor remembers where it stopped. */
  readonly cursor?: MapBatchCursor;
}

type FdValueTypeName =
  | 'prog_array'
  | 'perf_event_array'
  | 'cgroup_array'
  | 'array_of_maps'
  | 'hash_of_maps'
  | 'sockmap'
  | 'sockhash'
  | 'xskmap'
  | 'reuseport_sockarray';

/** The element type a spec's value codec gives (one CPU's value for per-CPU maps). */
export type SpecElement<S extends MapSpec> = S extends { readonly value: infer C }
  ? CodecType<C>
  : S['type'] extends FdValueTypeName
    ? number
    : Uint8Array;
type PerCpuTypeNumber =
  | typeof MapType.PercpuHash
  | typeof MapType.PercpuArray
  | typeof MapType.LruPercpuHash
  | typeof MapType.PercpuCgroupStorage;
/** The value type of a map created from spec `S` (an array with one value per CPU for per-CPU maps). */
export type SpecValue<S extends MapSpec> = S['type'] extends PerCpuMapTypeName | PerCpuTypeNumber
  ? SpecElement<S>[]
  : SpecElement<S>;
/** What `set()` takes as a value: maps holding numbers (fd maps) also take objects owning an fd. */
export type SetValue<V> = V | (number extends V ? HasFd : never);

/** The key type of a map created from spec `S` (for bloom filters, the element type). */
export type SpecKey<S extends MapSpec> = S extends { readonly key: infer C }
  ? CodecType<C>
  : S['type'] extends 'lpm_trie'
    ? LpmKey
    : S['type'] extends 'bloom_filter'
      ? SpecElement<S>
      : Uint8Array;

const updateFlagBits: Record<UpdateFlagName, number> = {
  any: UpdateFlags.Any,
  noExist: UpdateFlags.Noexist,
  exist: UpdateFlags.Exist,
  lock: UpdateFlags.FLock,
};
const F_LOCK = UpdateFlags.FLock;
const F_RDONLY = MapFlags.Rdonly;
const F_MMAPABLE = MapFlags.Mmapable;
const updateFlagMask = UpdateFlags.Noexist | UpdateFlags.Exist | UpdateFlags.FLock;

function updateFlagBit(name: unknown): number {
  if (typeof name !== 'string' || !Object.hasOwn(updateFlagBits, name)) {
    throw new InvalidArgumentError(
      `flags must be 'any', 'noExist', 'exist' or 'lock' (or a list of them, or UpdateFlags bits), got ${JSON.stringify(name)}`,
    );
  }
  return updateFlagBits[name as UpdateFlagName];
}

function updateFlags(options: SetOptions | undefined): number {
  if (options === undefined) return 0;
  const given = options.flags;
  let flags = 0;
  if (typeof given === 'number') {
    if (!Number.isInteger(given) || given < 0 || (given & ~updateFlagMask) !== 0) {
      throw new InvalidArgumentError(`flags must be a combination of UpdateFlags bits, got ${given}`);
    }
    flags = given;
  } else if (Array.isArray(given)) {
    for (const name of given) flags |= updateFlagBit(name);
  } else if (given !== undefined) {
    flags = updateFlagBit(given);
  }
  if ((flags & (UpdateFlags.Noexist | UpdateFlags.Exist)) === (UpdateFlags.Noexist | UpdateFlags.Exist)) {
    throw new InvalidArgumentError("flags 'noExist' and 'exist' exclude each other");
  }
  if (options.lock) flags |= F_LOCK;
  return flags;
}

/** Where a batch walk stands; pass the same cursor to successive `getBatch({ cursor })` calls. */
export class MapBatchCursor {
  /** @internal The kernel's position token (bucket or key). */
  readonly token: Uint8Array;
  /** @internal The last key seen, for walks that fall back to single operations. */
  lastKey: Uint8Array | undefined;
  /** @internal Whether the first call was made. */
  started = false;
  /** True once the walk reached the end of the map. */
  done = false;

  constructor(keySize = 8) {
    this.token = new Uint8Array(new ArrayBuffer(Math.max(8, keySize)));
  }

  /** Starts over from the beginning of the map. */
  reset(): void {
    this.started = false;
    this.done = false;
    this.lastKey = undefined;
  }
}

/** Per map type: the batch commands the kernel answered ENOTSUPP to. */
const noBatch = new Map<number, Set<BatchCommand>>();

/** Per map type: whether the running kernel knows it (probed once, after an EINVAL). */
const typeSupport = new Map<number, boolean>();

function keyString(key: Uint8Array): string {
  let s = '';
  for (let i = 0; i < key.length; i++) s += String.fromCharCode(key[i]!);
  return s;
}

interface MapInit {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
  key: CodecLike | undefined;
  value: CodecLike | undefined;
}

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

  readonly #info: MapTypeInfo | undefined;
  readonly #key: Uint8Array;
  readonly #keyView: DataView;
  readonly #value: Uint8Array;
  readonly #valueView: DataView;
  readonly #keyRaw: boolean;
  readonly #valueRaw: boolean;
  #memory: MapMemory | undefined;
  #frozen = false;

  private constructor(fd: number, init: MapInit) {
    super(fd, 'map');
    const info = findMapType(init.type);
    this.#info = info;
    this.type = init.type;
    this.typeName = mapTypeLabel(init.type);
    this.keySize = init.keySize;
    this.valueSize = init.valueSize;
    this.maxEntries = init.maxEntries;
    this.flags = init.flags;
    this.name = init.name;
    this.perCpu = info?.perCpu ?? false;
    const cpus = this.perCpu ? possibleCpus() : 1;
    this.valueBufferSize = this.perCpu ? perCpuStride(init.valueSize) * cpus : init.valueSize;

    let keyCodec: Codec<unknown>;
    if (init.key !== undefined) keyCodec = resolveCodec(init.key as Codec<unknown>);
    else if (info?.name === 'lpm_trie') keyCodec = lpmKey(init.keySize - 4) as Codec<unknown>;
    else if (info?.name === 'bloom_filter') keyCodec = bytes(init.valueSize) as Codec<unknown>;
    else keyCodec = bytes(init.keySize) as Codec<unknown>;
    let element: Codec<unknown>;
    if (init.value !== undefined) element = resolveCodec(init.value as Codec<unknown>);
    else if (info?.fdValues && init.valueSize === 4) element = fdValue as Codec<unknown>;
    else element = bytes(init.valueSize) as Codec<unknown>;
    this.keyCodec = keyCodec as Codec<K>;
    this.valueCodec = (this.perCpu ? perCpu(element, cpus) : element) as Codec<V>;
    this.#keyRaw = init.key === undefined && keyCodec.name.startsWith('bytes(');
    this.#valueRaw = init.value === undefined && !this.perCpu && element.name.startsWith('bytes(');
    this.#key = new Uint8Array(new ArrayBuffer(Math.max(init.keySize, 1))).subarray(0, init.keySize);
    this.#keyView = new DataView(this.#key.buffer, 0, Math.max(init.keySize, 1));
    this.#value = new Uint8Array(new ArrayBuffer(Math.max(this.valueBufferSize, 1))).subarray(
      0,
      this.valueBufferSize,
    );
    this.#valueView = new DataView(this.#value.buffer, 0, Math.max(this.valueBufferSize, 1));
  }

  // ---------------------------------------------------------------------------------------------
  // Creating and opening

  /**
   * Creates a map. `type` is a name ('hash', 'lru_percpu_hash', 'ringbuf'...) or a `MapType`
   * number; sizes default to the sizes of the `key`/`value` codecs. The spec is checked against the
   * type's rules first (`InvalidArgumentError` names the problem); a type the kernel lacks throws
   * `NotSupportedError`.
   */
  static create<const S extends MapSpec>(spec: S): BpfMap<SpecKey<S>, SpecValue<S>> {
    const norm = normalizeSpec(spec);
    let innerFd = -1;
    let ownedInner: BpfMap<unknown, unknown> | undefined;
    if (spec.innerMap !== undefined) {
      const inner = spec.innerMap;
      if (inner instanceof KernelObject || typeof (inner as HasFd).fd === 'number') {
        innerFd = (inner as HasFd).fd;
      } else {
        ownedInner = BpfMap.create(inner as MapSpec) as BpfMap<unknown, unknown>;
        innerFd = ownedInner.fd;
      }
    }
    let fd: number;
    try {
      fd = createMapFd(norm, innerFd);
    } catch (error) {
      throw createError(error, norm);
    } finally {
      ownedInner?.close();
    }
    return new BpfMap<SpecKey<S>, SpecValue<S>>(fd, {
      type: norm.type,
      keySize: norm.keySize,
      valueSize: norm.valueSize,
      maxEntries: norm.maxEntries,
      flags: norm.flags,
      name: norm.name,
      key: spec.key,
      value: spec.value,
    });
  }

  /** Takes ownership of `fd` (closing it if it is not a map). */
  static #adopt<K, V>(fd: number, options: OpenOptions, what: string): BpfMap<K, V> {
    let info: MapInfo;
    try {
      const kind = kindOfFd(fd);
      if (kind !== 'map') {
        throw new InvalidArgumentError(
          `${what} is not a BPF map (it is ${kind ? `a BPF ${kind}` : 'another kind of file'})`,
        );
      }
      info = mapInfo(fd);
      // Hot paths check sizes against the native per-fd cache: make sure this fd is in it.
      if (sys.mapSizes(fd) === null) sys.adoptMap(fd);
    } catch (error) {
      sys.close(fd);
      throw error;
    }
    try {
      return new BpfMap<K, V>(fd, {
        type: info.type,
        keySize: info.keySize,
        valueSize: info.valueSize,
        maxEntries: info.maxEntries,
        flags: info.flags,
        name: info.name,
        key: options.key,
        value: options.value,
      });
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
    if (!Number.isInteger(fd) || fd < 0)
      throw new InvalidArgumentError(`fd must be an integer >= 0, got ${String(fd)}`);
    let dup: number;
    try {
      dup = sys.dup(fd);
    } catch (error) {
      throw translateSysError(error, `duplicating fd ${fd}`);
    }
    return BpfMap.#adopt<K, V>(dup, options, `fd ${fd}`);
  }

  /** Opens the map pinned at `path` (on a BPF file system). */
  static fromPin<const O extends PinOpenOptions>(
    path: string,
    options?: O,
  ): BpfMap<OpenedKey<O>, OpenedValue<O>>;
  static fromPin<K, V>(path: string, options?: PinOpenOptions): BpfMap<K, V>;
  static fromPin<K, V>(path: string, options: PinOpenOptions = {}): BpfMap<K, V> {
    const fd = getPinned(path, 'map', options.readonly ? F_RDONLY : 0);
    return BpfMap.#adopt<K, V>(fd, options, path).openedFrom(path);
  }

  /** Opens the map with kernel-wide id `id` (see `BpfMap.ids()`). */
  static fromId<const O extends OpenOptions>(id: number, options?: O): BpfMap<OpenedKey<O>, OpenedValue<O>>;
  static fromId<K, V>(id: number, options?: OpenOptions): BpfMap<K, V>;
  static fromId<K, V>(id: number, options: OpenOptions = {}): BpfMap<K, V> {
    return BpfMap.#adopt<K, V>(fdFromId('map', id), options, `map id ${id}`);
  }

  /** Ids of every map on the system. */
  static ids(): number[] {
    return [...objectIds('map')];
  }

  /** `info()` of every map on the system (maps freed while listing are skipped). */
  static list(): MapInfo[] {
    const out: MapInfo[] = [];
    for (const id of objectIds('map')) {
      let fd: number;
      try {
        fd = fdFromId('map', id);
      } catch (error) {
        if ((error as BpfError).code === 'ENOENT') continue;
        throw error;
      }
      try {
        out.push(mapInfo(fd));
      } finally {
        sys.close(fd);
      }
    }
    return out;
  }

  /** A second, independent `BpfMap` on the same kernel map (a duplicated fd), with the same codecs. */
  clone(): BpfMap<K, V> {
    const fd = this.dupFd();
    return new BpfMap<K, V>(fd, {
      type: this.type,
      keySize: this.keySize,
      valueSize: this.valueSize,
      maxEntries: this.maxEntries,
      flags: this.flags,
      name: this.name,
      key: this.keyCodec as Codec<unknown>,
      value: (this.perCpu ? undefined : this.valueCodec) as Codec<unknown> | undefined,
    }).#withPerCpuCodec(this);
  }

  #withPerCpuCodec(from: BpfMap<K, V>): this {
    if (this.perCpu) (this as { valueCodec: Codec<V> }).valueCodec = from.valueCodec;
    return this;
  }

  // ---------------------------------------------------------------------------------------------
  // Element access

  #label(): string {
    return this.name ? `${this.typeName} map "${this.name}"` : `${this.typeName} map`;
  }

  #requireKeys(op: string): void {
    if (this.#info?.keyless) {
      const hint =
        this.#info.name === 'queue' || this.#info.name === 'stack'
          ? 'use push(), pop() and peek()'
          : this.#info.name === 'bloom_filter'
            ? 'use push() and has()'
            : 'it has no elements to address from user space';
      throw new InvalidArgumentError(`${op}: ${this.#label()} has no keys; ${hint}`);
    }
  }

  #encodeKey(key: K): Uint8Array {
    if (this.#keyRaw && key instanceof Uint8Array && key.length === this.keySize) return key;
    return this.#encode('key', this.keyCodec as Codec<unknown>, this.#keyView, this.#key, this.#keyRaw, key);
  }

  #encodeValue(value: V): Uint8Array {
    if (this.#valueRaw && value instanceof Uint8Array && value.length === this.valueSize) return value;
    return this.#encode(
      'value',
      this.valueCodec as Codec<unknown>,
      this.#valueView,
      this.#value,
      this.#valueRaw,
      value,
    );
  }

  /** The slow half of encoding: codecs, and raw bytes of the wrong length (an error). */
  #encode(
    what: string,
    codec: Codec<unknown>,
    view: DataView,
    buffer: Uint8Array,
    raw: boolean,
    x: unknown,
  ): Uint8Array {
    if (raw && x instanceof Uint8Array) {
      throw new InvalidArgumentError(
        `${what} must be ${buffer.length} bytes for ${this.#label()}, got ${x.length}`,
      );
    }
    try {
      codec.write(view, 0, x);
    } catch (error) {
      throw new InvalidArgumentError(`${what} for ${this.#label()}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return buffer;
  }

  #checkRaw(buffer: Uint8Array, size: number, what: string): void {
    if (!(buffer instanceof Uint8Array) || buffer.length !== size) {
      throw new InvalidArgumentError(
        `${what} must be a Uint8Array of ${size} bytes for ${this.#label()}, got ${
          buffer instanceof Uint8Array ? `${buffer.length} bytes` : typeof buffer
        }`,
      );
    }
  }

  /** The value at `key`, or undefined when there is none. */
  get(key: K, options?: GetOptions): V | undefined {
    const fd = this.fd;
    this.#requireKeys('get');
    const k = this.#encodeKey(key);
    let found: boolean;
    try {
      found = sys.mapLookup(fd, k, this.#value, options?.lock ? F_LOCK : 0);
    } catch (error) {
      throw elementError(error, `looking up a key in ${this.#label()}`, this.maxEntries);
    }
    if (!found) return undefined;
    return this.#valueRaw ? (this.#value.slice() as V) : this.valueCodec.read(this.#valueView, 0);
  }

  /**
   * Raw lookup without allocation: copies the value at `key` into `out` (`valueBufferSize` bytes)
   * and returns true, or returns false when there is none. Reuse `key` and `out` across calls.
   */
  lookupInto(key: Uint8Array, out: Uint8Array, flags = 0): boolean {
    const fd = this.fd;
    this.#checkRaw(key, this.keySize, 'key');
    this.#checkRaw(out, this.valueBufferSize, 'out');
    try {
      return sys.mapLookup(fd, key, out, flags);
    } catch (error) {
      throw elementError(error, `looking up a key in ${this.#label()}`, this.maxEntries);
    }
  }

  /** Whether `key` is present (for bloom filters: whether the value may have been pushed). */
  has(key: K): boolean {
    const fd = this.fd;
    if (this.#info?.name === 'bloom_filter') {
      const value = this.#encodeValue(key as unknown as V);
      try {
        return sys.mapLookup(fd, null, value, 0);
      } catch (error) {
        throw elementError(error, `checking ${this.#label()}`, this.maxEntries);
      }
    }
    this.#requireKeys('has');
    const k = this.#encodeKey(key);
    try {
      return sys.mapLookup(fd, k, this.#value, 0);
    } catch (error) {
      throw elementError(error, `looking up a key in ${this.#label()}`, this.maxEntries);
    }
  }

  /**
   * Stores `value` at `key`. `flags: 'noExist'` fails (EEXIST) when the key exists, `'exist'`
   * fails (`NotFoundError`) when it does not; `lock: true` writes under the value's spin lock.
   */
  set(key: K, value: SetValue<V>, options?: SetOptions): this {
    const fd = this.fd;
    this.#requireKeys('set');
    const flags = updateFlags(options);
    const k = this.#encodeKey(key);
    const v = this.#encodeValue(value as V);
    try {
      sys.mapUpdate(fd, k, v, flags);
    } catch (error) {
      if (flags & F_LOCK && (error as { code?: string }).code === 'EINVAL') {
        throw new InvalidArgumentError(
          `updating ${this.#label()} with flags 'lock': its value has no bpf_spin_lock (the map needs BTF describing one)`,
          { cause: error, code: 'EINVAL', errno: 22 },
        );
      }
      throw elementError(error, `updating ${this.#label()}`, this.maxEntries);
    }
    return this;
  }

  /** Raw update without allocation: `key` of `keySize` bytes, `value` of `valueBufferSize` bytes. */
  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    const fd = this.fd;
    this.#checkRaw(key, this.keySize, 'key');
    this.#checkRaw(value, this.valueBufferSize, 'value');
    try {
      sys.mapUpdate(fd, key, value, flags);
    } catch (error) {
      throw elementError(error, `updating ${this.#label()}`, this.maxEntries);
    }
  }

  /** Removes `key`; false when it was not there. Plain arrays cannot delete (their elements always exist). */
  delete(key: K): boolean {
    const fd = this.fd;
    this.#requireKeys('delete');
    if (this.#info?.fixedEntries) {
      throw new InvalidArgumentError(
        `delete: elements of ${this.#label()} always exist and cannot be deleted; set a zero value or call clear()`,
      );
    }
    const k = this.#encodeKey(key);
    try {
      return sys.mapDelete(fd, k);
    } catch (error) {
      throw elementError(error, `deleting from ${this.#label()}`, this.maxEntries);
    }
  }

  /** Raw delete of a `keySize`-byte key; false when it was not there. */
  deleteRaw(key: Uint8Array): boolean {
    const fd = this.fd;
    this.#checkRaw(key, this.keySize, 'key');
    try {
      return sys.mapDelete(fd, key);
    } catch (error) {
      throw elementError(error, `deleting from ${this.#label()}`, this.maxEntries);
    }
  }

  /**
   * Looks up `key` and removes it in one step (hash maps on Linux 5.14+); undefined when absent.
   */
  getAndDelete(key: K): V | undefined {
    const fd = this.fd;
    this.#requireKeys('getAndDelete');
    const k = this.#encodeKey(key);
    let found: boolean;
    try {
      found = sys.mapLookupAndDelete(fd, k, this.#value, 0);
    } catch (error) {
      throw elementError(error, `looking up and deleting a key of ${this.#label()}`, this.maxEntries);
    }
    return found ? this.valueCodec.read(this.#valueView, 0) : undefined;
  }

  /** The raw key after `key` (or the first key for null) into `out`; false at the end. */
  nextKeyInto(key: Uint8Array | null, out: Uint8Array): boolean {
    const fd = this.fd;
    if (key !== null) this.#checkRaw(key, this.keySize, 'key');
    this.#checkRaw(out, this.keySize, 'out');
    try {
      return sys.mapNextKey(fd, key, out);
    } catch (error) {
      throw elementError(error, `walking the keys of ${this.#label()}`, this.maxEntries);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Queue, stack, bloom filter

  #requireKind(op: string, ...kinds: MapTypeName[]): void {
    if (!this.#info || !kinds.includes(this.#info.name)) {
      throw new InvalidArgumentError(
        `${op}() is for ${kinds.join(' and ')} maps; this is a ${this.#label()}`,
      );
    }
  }

  /**
   * Queue and stack: adds `value` (with `flags: 'exist'`, a full map drops its oldest element
   * instead of failing). Bloom filter: adds `value` to the set.
   */
  push(value: V, options?: { readonly flags?: 'any' | 'exist' }): void {
    const fd = this.fd;
    this.#requireKind('push', 'queue', 'stack', 'bloom_filter');
    const flags = options?.flags === 'exist' ? UpdateFlags.Exist : UpdateFlags.Any;
    const v = this.#encodeValue(value);
    try {
      sys.mapUpdate(fd, null, v, flags);
    } catch (error) {
      throw elementError(error, `pushing to ${this.#label()}`, this.maxEntries);
    }
  }

  /** Queue and stack: removes and returns the next element, or undefined when empty. */
  pop(): V | undefined {
    const fd = this.fd;
    this.#requireKind('pop', 'queue', 'stack');
    let found: boolean;
    try {
      found = sys.mapLookupAndDelete(fd, null, this.#value, 0);
    } catch (error) {
      throw elementError(error, `popping from ${this.#label()}`, this.maxEntries);
    }
    return found ? this.valueCodec.read(this.#valueView, 0) : undefined;
  }

  /** Queue and stack: the next element without removing it, or undefined when empty. */
  peek(): V | undefined {
    const fd = this.fd;
    this.#requireKind('peek', 'queue', 'stack');
    let found: boolean;
    try {
      found = sys.mapLookup(fd, null, this.#value, 0);
    } catch (error) {
      throw elementError(error, `peeking at ${this.#label()}`, this.maxEntries);
    }
    return found ? this.valueCodec.read(this.#valueView, 0) : undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Iteration

  /**
   * Raw keys (fresh copies), walking with BPF_MAP_GET_NEXT_KEY. Deleting the current key while
   * walking makes the kernel restart from the first key; keys already seen are then skipped, so
   * every key present throughout the walk is seen once and the walk ends.
   */
  *#walk(op: string): Generator<Uint8Array, void, undefined> {
    this.#requireKeys(op);
    const fd = this.fd;
    const size = this.keySize;
    let current = new Uint8Array(new ArrayBuffer(size));
    let next = new Uint8Array(new ArrayBuffer(size));
    const indexed = this.#info?.indexed ?? false;
    const seen = indexed ? undefined : new Set<string>();
    let skippedInARow = 0;
    let has: boolean;
    try {
      has = sys.mapNextKey(this.fd, null, next);
    } catch (error) {
      throw elementError(error, `walking the keys of ${this.#label()}`, this.maxEntries);
    }
    while (has) {
      [current, next] = [next, current];
      let fresh = true;
      if (seen) {
        const id = keyString(current);
        if (seen.has(id)) fresh = false;
        else seen.add(id);
      }
      if (fresh) {
        skippedInARow = 0;
        yield current.slice();
      } else if (++skippedInARow > this.maxEntries + seen!.size) {
        return; // the map keeps changing under us: stop rather than walk in circles
      }
      if (this.closed) return;
      try {
        has = sys.mapNextKey(fd, current, next);
      } catch (error) {
        throw elementError(error, `walking the keys of ${this.#label()}`, this.maxEntries);
      }
    }
  }

  /** The keys, decoded. Safe while entries are deleted (see `entries()`). */
  *keys(): Generator<K, void, undefined> {
    for (const raw of this.#walk('keys')) yield this.#decodeKey(raw);
  }

  #decodeKey(raw: Uint8Array): K {
    return this.#keyRaw
      ? (raw as K)
      : this.keyCodec.read(new DataView(raw.buffer, raw.byteOffset, raw.byteLength), 0);
  }

  /** The values. Keys that vanish between the walk and the lookup are skipped. */
  *values(): Generator<V, void, undefined> {
    for (const [, value] of this.entries()) yield value;
  }

  /**
   * `[key, value]` pairs. The walk is safe while entries are deleted, by you or by BPF programs:
   * it never yields a key twice and always ends; keys added during the walk may or may not show up.
   */
  *entries(): Generator<[K, V], void, undefined> {
    const value = new Uint8Array(new ArrayBuffer(Math.max(this.valueBufferSize, 1))).subarray(
      0,
      this.valueBufferSize,
    );
    const view = new DataView(value.buffer);
    for (const raw of this.#walk('entries')) {
      let found: boolean;
      try {
        found = sys.mapLookup(this.fd, raw, value, 0);
      } catch (error) {
        throw elementError(error, `reading ${this.#label()}`, this.maxEntries);
      }
      if (found) yield [this.#decodeKey(raw), this.valueCodec.read(view, 0)];
    }
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
    return this.#info?.fixedEntries ? this.maxEntries : undefined;
  }

  /** Counts the entries by walking the keys (one syscall per key). */
  count(): number {
    if (this.#info?.fixedEntries) return this.maxEntries;
    let n = 0;
    for (const _ of this.#walk('count')) n++;
    return n;
  }

  /**
   * Removes every entry. Arrays are zeroed instead (their elements cannot be removed); queues and
   * stacks are drained. Bloom filters cannot be cleared.
   */
  clear(): void {
    const fd = this.fd;
    const info = this.#info;
    if (info?.name === 'queue' || info?.name === 'stack') {
      while (sys.mapLookupAndDelete(fd, null, this.#value, 0));
      return;
    }
    this.#requireKeys('clear');
    if (info?.fixedEntries) {
      const zero = new Uint8Array(new ArrayBuffer(this.valueBufferSize));
      const key = new Uint8Array(new ArrayBuffer(4));
      const kv = new DataView(key.buffer);
      for (let i = 0; i < this.maxEntries; i++) {
        kv.setUint32(0, i, true);
        this.update(key, zero, 0);
      }
      return;
    }
    if (info?.indexed) {
      const key = new Uint8Array(new ArrayBuffer(4));
      const kv = new DataView(key.buffer);
      for (let i = 0; i < this.maxEntries; i++) {
        kv.setUint32(0, i, true);
        try {
          this.deleteRaw(key);
        } catch (error) {
          // Empty slots: ENOENT for most, EINVAL for socket maps.
          if (!(error instanceof InvalidArgumentError)) throw error;
        }
      }
      return;
    }
    // Collect first, then delete: deleting while walking makes the kernel restart the walk.
    for (const key of [...this.#walk('clear')]) this.deleteRaw(key);
  }

  // ---------------------------------------------------------------------------------------------
  // Batch operations

  #batchSupported(command: BatchCommand): boolean {
    return !noBatch.get(this.type)?.has(command);
  }

  #markNoBatch(command: BatchCommand): void {
    let set = noBatch.get(this.type);
    if (!set) {
      set = new Set();
      noBatch.set(this.type, set);
    }
    set.add(command);
  }

  /** Whether `error` from a batch command means the type has none (remembered per map type). */
  #batchMissing(error: unknown, command: BatchCommand): boolean {
    const e = error as { code?: string };
    if (isUnsupported(error) || (e?.code === 'EINVAL' && this.#info && !this.#info.batch)) {
      this.#markNoBatch(command);
      return true;
    }
    return false;
  }

  /**
   * Raw batch read without allocation: up to `count` entries into `keys` (count × keySize bytes)
   * and `values` (count × valueBufferSize bytes), continuing where `cursor` stopped. Returns how
   * many were read; `cursor.done` turns true at the end of the map. Throws `NotSupportedError`
   * for map types without BPF_MAP_LOOKUP_BATCH.
   */
  lookupBatchInto(cursor: MapBatchCursor, keys: Uint8Array, values: Uint8Array, count?: number): number {
    return this.#rawBatch('lookup', cursor, keys, values, count);
  }

  /** Like `lookupBatchInto`, and deletes what it read (BPF_MAP_LOOKUP_AND_DELETE_BATCH). */
  lookupAndDeleteBatchInto(
    cursor: MapBatchCursor,
    keys: Uint8Array,
    values: Uint8Array,
    count?: number,
  ): number {
    return this.#rawBatch('lookupAndDelete', cursor, keys, values, count);
  }

  #rawBatch(
    command: 'lookup' | 'lookupAndDelete',
    cursor: MapBatchCursor,
    keys: Uint8Array,
    values: Uint8Array,
    count?: number,
  ): number {
    const fd = this.fd;
    const n = count ?? Math.floor(keys.length / Math.max(this.keySize, 1));
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('count must be an integer >= 1');
    if (keys.length < n * this.keySize)
      throw new InvalidArgumentError(`keys must hold ${n} keys of ${this.keySize} bytes`);
    if (values.length < n * this.valueBufferSize) {
      throw new InvalidArgumentError(`values must hold ${n} values of ${this.valueBufferSize} bytes`);
    }
    if (cursor.done) return 0;
    try {
      const r = batchOp(command, fd, cursor.started ? cursor.token : null, cursor.token, keys, values, n, 0);
      cursor.started = true;
      if (r.done) cursor.done = true;
      return r.count;
    } catch (error) {
      if (this.#batchMissing(error, command)) {
        throw new NotSupportedError(
          `batch ${command === 'lookup' ? 'lookup' : 'lookup-and-delete'} on ${this.typeName} maps`,
          'the kernel has no batch command for this map type',
          { cause: error },
        );
      }
      throw elementError(error, `batch ${command} on ${this.#label()}`, this.maxEntries);
    }
  }

  /**
   * Reads entries with BPF_MAP_LOOKUP_BATCH, `batchSize` per kernel call: the whole map, or with
   * `cursor` one call's worth per `getBatch` (check `cursor.done`). Falls back to walking keys for
   * map types without batch commands.
   */
  getBatch(options: BatchReadOptions = {}): Array<[K, V]> {
    return this.#readBatch('lookup', options);
  }

  /** Like `getBatch`, and removes what it read (BPF_MAP_LOOKUP_AND_DELETE_BATCH). */
  getAndDeleteBatch(options: BatchReadOptions = {}): Array<[K, V]> {
    return this.#readBatch('lookupAndDelete', options);
  }

  #readBatch(command: 'lookup' | 'lookupAndDelete', options: BatchReadOptions): Array<[K, V]> {
    const fd = this.fd;
    this.#requireKeys(command === 'lookup' ? 'getBatch' : 'getAndDeleteBatch');
    const batchSize = options.batchSize ?? Math.min(256, Math.max(1, this.maxEntries));
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new InvalidArgumentError('batchSize must be an integer >= 1');
    const cursor = options.cursor ?? new MapBatchCursor(this.keySize);
    const out: Array<[K, V]> = [];
    if (this.#batchSupported(command)) {
      const keys = new Uint8Array(new ArrayBuffer(batchSize * this.keySize));
      const values = new Uint8Array(new ArrayBuffer(batchSize * this.valueBufferSize));
      const kv = new DataView(keys.buffer);
      const vv = new DataView(values.buffer);
      try {
        do {
          const n = this.#rawBatch(command, cursor, keys, values, batchSize);
          for (let i = 0; i < n; i++) {
            const key = this.#keyRaw
              ? (keys.slice(i * this.keySize, (i + 1) * this.keySize) as K)
              : this.keyCodec.read(kv, i * this.keySize);
            out.push([key, this.valueCodec.read(vv, i * this.valueBufferSize)]);
          }
        } while (!cursor.done && options.cursor === undefined);
        return out;
      } catch (error) {
        if (!(error instanceof NotSupportedError) || cursor.started) throw error;
      }
    }
    // Fallback: walk keys, one lookup (and delete) each.
    void fd;
    const limit = options.cursor ? batchSize : Number.POSITIVE_INFINITY;
    const key = new Uint8Array(new ArrayBuffer(this.keySize));
    const value = new Uint8Array(new ArrayBuffer(this.valueBufferSize));
    const vv = new DataView(value.buffer);
    if (command === 'lookupAndDelete') {
      // Deleting restarts the kernel's walk, so always take the first key.
      while (out.length < limit && this.nextKeyInto(null, key)) {
        if (sys.mapLookup(this.fd, key, value, 0))
          out.push([this.#decodeKey(key.slice()), this.valueCodec.read(vv, 0)]);
        this.deleteRaw(key);
      }
      if (out.length < limit) cursor.done = true;
      cursor.started = true;
      return out;
    }
    let has = cursor.started
      ? cursor.lastKey !== undefined && this.nextKeyInto(cursor.lastKey, key)
      : this.nextKeyInto(null, key);
    cursor.started = true;
    while (has && out.length < limit) {
      if (sys.mapLookup(this.fd, key, value, 0))
        out.push([this.#decodeKey(key.slice()), this.valueCodec.read(vv, 0)]);
      cursor.lastKey = key.slice();
      has = this.nextKeyInto(cursor.lastKey, key);
    }
    if (!has) cursor.done = true;
    return out;
  }

  /**
   * Writes many entries with BPF_MAP_UPDATE_BATCH (one kernel call per `batchSize`), or one by one
   * for map types without it. Returns the number written.
   */
  setBatch(
    entries: Iterable<readonly [K, V]>,
    options?: SetOptions & { readonly batchSize?: number },
  ): number {
    const fd = this.fd;
    this.#requireKeys('setBatch');
    const flags = updateFlags(options);
    const list = Array.isArray(entries) ? (entries as ReadonlyArray<readonly [K, V]>) : [...entries];
    if (list.length === 0) return 0;
    if (this.#batchSupported('update')) {
      const batchSize = Math.min(options?.batchSize ?? 4096, list.length);
      const keys = new Uint8Array(new ArrayBuffer(batchSize * this.keySize));
      const values = new Uint8Array(new ArrayBuffer(batchSize * this.valueBufferSize));
      let written = 0;
      try {
        while (written < list.length) {
          const n = Math.min(batchSize, list.length - written);
          for (let i = 0; i < n; i++) {
            const [k, v] = list[written + i]!;
            keys.set(this.#encodeKey(k), i * this.keySize);
            values.set(this.#encodeValue(v), i * this.valueBufferSize);
          }
          const r = batchOp('update', fd, null, null, keys, values, n, flags);
          written += r.count;
          if (r.count < n)
            throw new BpfError(`batch update of ${this.#label()} stopped after ${written} entries`);
        }
        return written;
      } catch (error) {
        if (error instanceof InvalidArgumentError || error instanceof BpfError) throw error;
        if (!(written === 0 && this.#batchMissing(error, 'update'))) {
          throw elementError(
            error,
            `batch update of ${this.#label()} (after ${written} entries)`,
            this.maxEntries,
          );
        }
      }
    }
    for (const [k, v] of list) this.set(k, v, options);
    return list.length;
  }

  /**
   * Deletes many keys with BPF_MAP_DELETE_BATCH, or one by one for map types without it. Returns
   * the number deleted. With the batch command, a missing key stops the batch with `NotFoundError`;
   * one by one, missing keys are skipped.
   */
  deleteBatch(keys: Iterable<K>, options?: { readonly batchSize?: number }): number {
    const fd = this.fd;
    this.#requireKeys('deleteBatch');
    const list = Array.isArray(keys) ? (keys as ReadonlyArray<K>) : [...keys];
    if (list.length === 0) return 0;
    if (this.#info?.fixedEntries) {
      throw new InvalidArgumentError(
        `deleteBatch: elements of ${this.#label()} always exist and cannot be deleted`,
      );
    }
    if (this.#batchSupported('delete')) {
      const batchSize = Math.min(options?.batchSize ?? 4096, list.length);
      const buf = new Uint8Array(new ArrayBuffer(batchSize * this.keySize));
      let deleted = 0;
      try {
        while (deleted < list.length) {
          const n = Math.min(batchSize, list.length - deleted);
          for (let i = 0; i < n; i++) buf.set(this.#encodeKey(list[deleted + i]!), i * this.keySize);
          const r = batchOp('delete', fd, null, null, buf, null, n, 0);
          deleted += r.count;
          if (r.count < n) {
            throw new BpfError(`batch delete of ${this.#label()} stopped after ${deleted} keys`);
          }
        }
        return deleted;
      } catch (error) {
        if (error instanceof BpfError) throw error;
        if (!(deleted === 0 && this.#batchMissing(error, 'delete'))) {
          throw elementError(
            error,
            `batch delete from ${this.#label()} (after ${deleted} keys)`,
            this.maxEntries,
          );
        }
      }
    }
    let n = 0;
    for (const k of list) if (this.delete(k)) n++;
    return n;
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
      throw translateSysError(error, `freezing ${this.#label()}`);
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
    const fd = this.fd;
    if (this.#memory && !this.#memory.closed) return this.#memory;
    const arena = this.#info?.name === 'arena';
    if (!(this.flags & F_MMAPABLE) || !(this.#info?.name === 'array' || arena)) {
      throw new InvalidArgumentError(
        `memory(): ${this.#label()} is not mmapable; create an array map with flags: MapFlags.Mmapable`,
      );
    }
    const page = pageSize();
    // Arena: maxEntries pages, one "element" per page. Array: 8-byte-rounded values, page-rounded.
    const elementSize = arena ? page : perCpuStride(this.valueSize);
    const length = Math.ceil((elementSize * this.maxEntries) / page) * page;
    // Frozen maps and fds opened read-only can only be mapped read-only, and JavaScript has no
    // read-only ArrayBuffer: one write through a view would kill the process with SIGSEGV.
    if (this.#frozen || this.flags & F_RDONLY) {
      throw new InvalidArgumentError(
        `memory(): ${this.#label()} is ${this.#frozen ? 'frozen' : 'read-only'}, and the kernel maps such maps only read-only, which JavaScript cannot guard; read its values with get() or lookupInto()`,
      );
    }
    try {
      this.#memory = new MapMemory(fd, length, elementSize, this.maxEntries);
    } catch (error) {
      throw translateSysError(error, `mapping the memory of ${this.#label()}`);
    }
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

/** Words a BPF_MAP_CREATE failure. */
function createError(error: unknown, spec: NormalizedMapSpec): Error {
  const code = (error as { code?: string }).code;
  const what = `creating ${spec.typeLabel}${spec.name ? ` "${spec.name}"` : ''}`;
  const options = { cause: error, code: code ?? '', errno: (error as { errno?: number }).errno ?? 0 };
  if (code === 'EINVAL' || isUnsupported(error)) {
    if (!spec.info || !probeMapType(spec.info)) {
      const since = spec.info ? ` (added in Linux ${spec.info.since})` : '';
      return new NotSupportedError(
        `map type ${spec.info?.name ?? spec.type}`,
        `the running kernel does not know ${spec.info?.cName ?? `map type ${spec.type}`}${since}`,
        options,
      );
    }
    return new InvalidArgumentError(
      `${what}: the kernel refused the spec (EINVAL): keySize ${spec.keySize}, valueSize ${spec.valueSize}, maxEntries ${spec.maxEntries}, flags 0x${spec.flags.toString(16)}`,
      options,
    );
  }
  if (code === 'ENOMEM') {
    return new BpfError(
      `${what}: out of memory (ENOMEM): maxEntries ${spec.maxEntries} × valueSize ${spec.valueSize} is too much for the memory cgroup or RLIMIT_MEMLOCK`,
      options,
    );
  }
  if (code === 'E2BIG')
    return new InvalidArgumentError(`${what}: sizes too large for this map type (E2BIG)`, options);
  if (code === 'EPERM' || code === 'EACCES') {
    return new PermissionError(`${what}: permission denied (${code}); run as root or grant CAP_BPF`, options);
  }
  return translateSysError(error, what);
}

/** Whether the kernel can create maps of this type at all, with the smallest valid spec (cached). */
function probeMapType(info: MapTypeInfo): boolean {
  const cached = typeSupport.get(info.type);
  if (cached !== undefined) return cached;
  const size = (rule: MapTypeInfo['keySize']): number =>
    'exactly' in rule
      ? rule.exactly
      : 'oneOf' in rule
        ? rule.oneOf[0]!
        : Math.max(rule.min, rule.multipleOf ?? 0);
  const maxEntries = info.maxEntries === 'zero' ? 0 : info.maxEntries === 'ring' ? pageSize() : 1;
  let supported = true;
  let inner: (HasFd & Disposable) | undefined;
  try {
    if (info.needsInnerMap) inner = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
    const spec = normalizeSpec({
      type: info.type,
      keySize: size(info.keySize),
      valueSize: size(info.valueSize),
      maxEntries,
      ...(inner ? { innerMap: inner } : {}),
    });
    const fd = createMapFd(spec, inner ? inner.fd : -1);
    sys.close(fd);
  } catch (error) {
    const code = (error as { code?: string }).code;
    // Only "unknown type" answers mean no; anything else (needs BTF, permissions) says the type exists.
    if (code === 'EINVAL' || isUnsupported(error)) supported = false;
  } finally {
    inner?.[Symbol.dispose]();
  }
  typeSupport.set(info.type, supported);
  return supported;
}
