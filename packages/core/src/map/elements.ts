/**
 * How one map's keys and values cross into kernel buffers: the codecs it uses (defaults chosen by
 * map type, per-CPU values wrapped one per possible CPU), the accessor memory single-element calls
 * encode into, and encoding/decoding with errors that name the map. Not exported from the package.
 */
import * as sys from '@ebpf/sys';
import { bytes, type Codec, type CodecLike, resolveCodec } from '../codec/codec.ts';
import { lpmKey } from '../codec/lpm.ts';
import { fdValue, perCpu, perCpuStride } from '../codec/per-cpu.ts';
import { InvalidArgumentError } from '../errors.ts';
import { possibleCpus } from '../system.ts';
import type { BpfMap } from './map.ts';
import { findMapType, type MapTypeInfo, mapTypeLabel } from './map-types.ts';

/** What a map is, as its spec or the kernel describes it. */
export interface MapShape {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
}

/**
 * The codecs of a map's keys and values (documented on `BpfMap`), and whether keys and values are
 * plain bytes: a right-sized Uint8Array is then passed to the kernel as is.
 */
export type ElementCodecs<K, V> = Pick<
  BpfMap<K, V>,
  'keyCodec' | 'valueCodec' | 'perCpu' | 'valueBufferSize'
> & {
  readonly keyRaw: boolean;
  readonly valueRaw: boolean;
};

/**
 * The codecs of a map given `key` and `value` (either may be missing). Without codecs, keys and
 * values are bytes, except: LPM trie keys are `{ prefixLen, data }`, bloom filter "keys" are their
 * values, and fd maps hold numbers. Per-CPU values are arrays of one element per possible CPU.
 */
export function chooseCodecs<K, V>(
  shape: MapShape,
  key: CodecLike | undefined,
  value: CodecLike | undefined,
): ElementCodecs<K, V> {
  const info = findMapType(shape.type);
  const perCpuValues = info?.perCpu ?? false;
  const cpus = perCpuValues ? possibleCpus() : 1;
  // A bloom filter's "keys" are its values (its key size is 0).
  const keySize = info?.name === 'bloom_filter' ? shape.valueSize : shape.keySize;
  const keyCodec = key !== undefined ? sized(key, keySize, 'key', shape) : defaultKey(info, shape, keySize);
  const element =
    value !== undefined ? sized(value, shape.valueSize, 'value', shape) : defaultValue(info, shape);
  return {
    keyCodec: keyCodec as Codec<K>,
    valueCodec: (perCpuValues ? perCpu(element, cpus) : element) as Codec<V>,
    keyRaw: key === undefined && info?.name !== 'lpm_trie',
    valueRaw: value === undefined && !perCpuValues && element !== fdValue,
    perCpu: perCpuValues,
    valueBufferSize: perCpuValues ? perCpuStride(shape.valueSize) * cpus : shape.valueSize,
  };
}

/** 'hash map "name"', for messages. */
function mapLabel(shape: MapShape): string {
  return `${mapTypeLabel(shape.type)} map${shape.name ? ` "${shape.name}"` : ''}`;
}

/**
 * `like` resolved, refused unless it is `size` bytes: a short codec would leave bytes of an
 * earlier call in every element it writes, a long one read past the kernel's value.
 */
function sized(like: CodecLike, size: number, what: 'key' | 'value', shape: MapShape): Codec<unknown> {
  const codec = resolveCodec(like as Codec<unknown>);
  if (codec.size !== size) {
    const per = what === 'value' && findMapType(shape.type)?.perCpu ? ' (of one CPU)' : '';
    throw new InvalidArgumentError(
      `${mapLabel(shape)}: ${what} codec ${codec.name} is ${codec.size} bytes, but the map's ${what} size${per} is ${size}: pass a ${size}-byte codec`,
    );
  }
  return codec;
}

/** The key codec of a map opened without one: LPM trie keys are `{ prefixLen, data }`, others bytes. */
function defaultKey(info: MapTypeInfo | undefined, shape: MapShape, keySize: number): Codec<unknown> {
  if (info?.name === 'lpm_trie') return lpmKey(shape.keySize - 4) as Codec<unknown>;
  return bytes(keySize) as Codec<unknown>;
}

/** The value codec (of one CPU) of a map opened without one: fd maps hold numbers, others bytes. */
function defaultValue(info: MapTypeInfo | undefined, shape: MapShape): Codec<unknown> {
  if (info?.fdValues && shape.valueSize === 4) return fdValue as Codec<unknown>;
  return bytes(shape.valueSize) as Codec<unknown>;
}

/**
 * Where one map object's single-element calls encode: a `sys.MapAccessor` bound to its fd, with
 * DataViews on the key and value regions. A call then passes no buffer to native code (~40 ns
 * less per operation than handing over key and value buffers).
 */
export class ElementSlots {
  readonly key: Uint8Array;
  readonly keyView: DataView;
  readonly value: Uint8Array;
  readonly valueView: DataView;
  /** Where `NextKey` leaves the key it found. */
  readonly nextKey: Uint8Array;
  readonly #access: (op: sys.MapOp) => boolean | undefined;
  readonly #header: Uint32Array;

  constructor(fd: number) {
    const a = sys.mapAccessor(fd);
    this.#access = a.access;
    this.#header = a.header;
    this.key = a.key;
    this.keyView = new DataView(a.key.buffer, a.key.byteOffset, a.key.length);
    this.value = a.value;
    this.valueView = new DataView(a.value.buffer, a.value.byteOffset, a.value.length);
    this.nextKey = a.nextKey;
  }

  /** One element call on what the regions hold: `flags` (a u32), and no key when `noKey` is 1. */
  call(op: sys.MapOp, flags: number, noKey: 0 | 1): boolean | undefined {
    const h = this.#header;
    h[FLAGS] = flags;
    h[NO_KEY] = noKey;
    return this.#access(op);
  }
}

const FLAGS = sys.MapAccessSlot.FlagsLo;
const NO_KEY = sys.MapAccessSlot.NoKey;

/**
 * Copies `from` into `to` at `offset`. Keys and values are mostly a few bytes, where a loop costs
 * a quarter of `TypedArray#set` (a builtin call, ~20 ns).
 */
export function copyBytes(to: Uint8Array, from: Uint8Array, offset = 0): void {
  const n = from.length;
  if (n > 32) to.set(from, offset);
  else for (let i = 0; i < n; i++) to[offset + i] = from[i] as number;
}

/** The codecs of one map object and how keys and values are written and read (pass it as another's `codecs` to share them). */
export class MapElements<K, V> implements ElementCodecs<K, V> {
  /** What the library knows of the map's type; undefined for types it does not know. */
  readonly info: MapTypeInfo | undefined;
  /** 'hash map "name"', for messages. */
  readonly label: string;
  // The codecs, as fields of this object: the hot paths read them without a second hop.
  readonly keyCodec: Codec<K>;
  readonly valueCodec: Codec<V>;
  readonly keyRaw: boolean;
  readonly valueRaw: boolean;
  readonly perCpu: boolean;
  readonly valueBufferSize: number;
  readonly #keySize: number;

  constructor(shape: MapShape, codecs: ElementCodecs<K, V>) {
    this.info = findMapType(shape.type);
    this.label = mapLabel(shape);
    this.keyCodec = codecs.keyCodec;
    this.valueCodec = codecs.valueCodec;
    this.keyRaw = codecs.keyRaw;
    this.valueRaw = codecs.valueRaw;
    this.perCpu = codecs.perCpu;
    this.valueBufferSize = codecs.valueBufferSize;
    this.#keySize = shape.keySize;
  }

  /**
   * Writes `key` as kernel bytes at `offset` of `into` (`view` is a DataView on the same memory):
   * raw keys are copied, others encoded by the key codec.
   */
  writeKey(key: K, into: Uint8Array, view: DataView, offset: number): void {
    if (this.keyRaw && key instanceof Uint8Array && key.length === this.#keySize) {
      copyBytes(into, key, offset);
    } else {
      this.#encode('key', this.keyCodec as Codec<unknown>, this.keyRaw, this.#keySize, view, offset, key);
    }
  }

  /** Writes `value` as kernel bytes at `offset` of `into`, like `writeKey`. */
  writeValue(value: V, into: Uint8Array, view: DataView, offset: number): void {
    const size = this.valueBufferSize;
    if (this.valueRaw && value instanceof Uint8Array && value.length === size) {
      copyBytes(into, value, offset);
    } else {
      this.#encode('value', this.valueCodec as Codec<unknown>, this.valueRaw, size, view, offset, value);
    }
  }

  /** Writes `key` into the slots' key region. */
  putKey(key: K, slots: ElementSlots): void {
    this.writeKey(key, slots.key, slots.keyView, 0);
  }

  /** Writes `value` into the slots' value region. */
  putValue(value: V, slots: ElementSlots): void {
    this.writeValue(value, slots.value, slots.valueView, 0);
  }

  /** The slow half of writing: codecs, and raw bytes of the wrong length (an error). */
  #encode(
    what: string,
    codec: Codec<unknown>,
    raw: boolean,
    size: number,
    view: DataView,
    offset: number,
    x: unknown,
  ): void {
    if (raw && x instanceof Uint8Array) {
      throw new InvalidArgumentError(`${what} must be ${size} bytes for ${this.label}, got ${x.length}`);
    }
    try {
      codec.write(view, offset, x);
    } catch (error) {
      throw new InvalidArgumentError(`${what} for ${this.label}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /** The value a lookup left in the slots, decoded (raw values are copies). */
  readValue(slots: ElementSlots): V {
    return this.valueRaw ? (slots.value.slice() as V) : this.valueCodec.read(slots.valueView, 0);
  }

  /** A key the caller owns (`raw` is kept, not copied, for byte keys). */
  decodeKey(raw: Uint8Array): K {
    return this.keyRaw
      ? (raw as K)
      : this.keyCodec.read(new DataView(raw.buffer, raw.byteOffset, raw.byteLength), 0);
  }

  /** Throws unless `buffer` is a Uint8Array of exactly `size` bytes (the raw calls). */
  checkRaw(buffer: Uint8Array, size: number, what: string): void {
    if (!(buffer instanceof Uint8Array) || buffer.length !== size) {
      throw new InvalidArgumentError(
        `${what} must be a Uint8Array of ${size} bytes for ${this.label}, got ${
          buffer instanceof Uint8Array ? `${buffer.length} bytes` : typeof buffer
        }`,
      );
    }
  }
}
