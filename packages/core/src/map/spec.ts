import { MapFlags } from '@ebpf/uapi';
import { type Codec, type CodecLike, resolveCodec } from '../codec/codec.ts';
import type { HasFd } from '../codec/per-cpu.ts';
import { InvalidArgumentError, NotSupportedError } from '../errors.ts';
import { pageSize, possibleCpus } from '../system.ts';
import { findMapType, type MapTypeInfo, type MapTypeName } from './map-types.ts';
import { describeRule, satisfies } from './size-rule.ts';

/** BTF type information for a map (needed by local storage maps and spin locks, optional elsewhere). */
export interface MapBtf {
  /** The BTF object: an fd or an object owning one. */
  readonly fd: number | HasFd;
  /** The key's type id in that BTF. */
  readonly keyTypeId?: number;
  /** The value's type id in that BTF. */
  readonly valueTypeId?: number;
  /** For struct_ops maps: the vmlinux BTF id of the struct's value type. */
  readonly vmlinuxValueTypeId?: number;
}

/** What `BpfMap.create()` takes. Sizes default to the size of `key`/`value` codecs when given. */
export interface MapCreateOptions {
  /** 'hash', 'percpu_array', 'lpm_trie', 'ringbuf'... or a `MapType` number. */
  readonly type: MapTypeName | number;
  /** Key size in bytes; 0 for queue, stack, bloom filter, ring buffers, arena. */
  readonly keySize?: number;
  /** Value size in bytes (for per-CPU maps: of one CPU's value). */
  readonly valueSize?: number;
  /** Capacity; ring buffers: size in bytes (power of two, page multiple); arena: pages. */
  readonly maxEntries?: number;
  /** BPF_F_* flags (`MapFlags`); flags the type requires are added for you. */
  readonly flags?: number;
  /** Up to 15 characters of [A-Za-z0-9_.]. */
  readonly name?: string;
  /** For array_of_maps/hash_of_maps: a map that looks like the maps it will hold, or a spec for one. */
  readonly innerMap?: HasFd | MapCreateOptions;
  /** NUMA node to allocate on (sets BPF_F_NUMA_NODE). */
  readonly numaNode?: number;
  /** Key codec (`'u32'`, `struct({...})`, `lpmKey(4)`...); default raw bytes. */
  readonly key?: CodecLike;
  /** Value codec; for per-CPU maps, the codec of one CPU's value. Default raw bytes. */
  readonly value?: CodecLike;
  /** Type-specific: bloom filter hash function count (1..15), arena start address. */
  readonly mapExtra?: number | bigint;
  /** BTF for key and value types. */
  readonly btf?: MapBtf;
  /** Interface index to offload the map to (with an offloaded program). */
  readonly ifindex?: number;
}

/** A spec checked against the type's rules, with defaults filled: what goes into BPF_MAP_CREATE. */
export interface NormalizedMapSpec {
  readonly info: MapTypeInfo | undefined;
  readonly type: number;
  readonly typeLabel: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  readonly numaNode: number | undefined;
  readonly mapExtra: bigint;
  readonly btf: MapBtf | undefined;
  readonly ifindex: number;
  readonly keyCodec: Codec<unknown> | undefined;
  readonly valueCodec: Codec<unknown> | undefined;
}

const F_NUMA_NODE = MapFlags.NumaNode;
const F_MMAPABLE = MapFlags.Mmapable;
const F_RDONLY_PROG = MapFlags.RdonlyProg;
const F_WRONLY_PROG = MapFlags.WronlyProg;

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

function checkSize(what: string, value: unknown, label: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new InvalidArgumentError(`${label}: ${what} must be an integer in [0, 2^32), got ${String(value)}`);
  }
  return value;
}

/** Checks `spec` against the rules of its map type and fills in defaults. Throws `InvalidArgumentError`. */
export function normalizeSpec(spec: MapCreateOptions): NormalizedMapSpec {
  if (spec === null || typeof spec !== 'object') throw new InvalidArgumentError('map spec must be an object');
  const { type } = spec;
  const info = findMapType(type as string | number);
  let typeNumber: number;
  if (info) typeNumber = info.type;
  else if (typeof type === 'number' && Number.isInteger(type) && type > 0) typeNumber = type;
  else {
    throw new InvalidArgumentError(
      `unknown map type ${JSON.stringify(type)}; use a name such as 'hash', 'array', 'percpu_hash', 'lru_hash', 'lpm_trie', 'ringbuf', 'queue' or a MapType value`,
    );
  }
  const label = info ? `${info.name} map` : `map type ${typeNumber}`;
  const nameLabel = spec.name ? `${label} "${spec.name}"` : label;

  const keyCodec = spec.key === undefined ? undefined : codecOrThrow(spec.key, 'key', nameLabel);
  const valueCodec = spec.value === undefined ? undefined : codecOrThrow(spec.value, 'value', nameLabel);

  let keySize = spec.keySize;
  if (keySize === undefined)
    keySize = keyCodec?.size ?? (info && 'exactly' in info.keySize ? info.keySize.exactly : undefined);
  if (keySize === undefined)
    throw new InvalidArgumentError(`${nameLabel}: keySize is required (or a key codec)`);
  keySize = checkSize('keySize', keySize, nameLabel);

  let valueSize = spec.valueSize;
  if (valueSize === undefined) {
    valueSize =
      valueCodec?.size ?? (info && 'exactly' in info.valueSize ? info.valueSize.exactly : undefined);
    if (valueSize === undefined && info?.fdValues) valueSize = 4;
  }
  if (valueSize === undefined)
    throw new InvalidArgumentError(`${nameLabel}: valueSize is required (or a value codec)`);
  valueSize = checkSize('valueSize', valueSize, nameLabel);

  if (keyCodec && keyCodec.size !== keySize) {
    throw new InvalidArgumentError(
      `${nameLabel}: key codec ${keyCodec.name} is ${keyCodec.size} bytes, but keySize is ${keySize}`,
    );
  }
  if (valueCodec && valueCodec.size !== valueSize) {
    throw new InvalidArgumentError(
      `${nameLabel}: value codec ${valueCodec.name} is ${valueCodec.size} bytes, but valueSize is ${valueSize}`,
    );
  }

  let flags = spec.flags ?? 0;
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xffffffff) {
    throw new InvalidArgumentError(
      `${nameLabel}: flags must be a 32-bit unsigned integer (MapFlags), got ${String(flags)}`,
    );
  }

  let maxEntries = spec.maxEntries;
  if (maxEntries === undefined) {
    if (info?.maxEntries === 'zero') maxEntries = 0;
    else if (info?.maxEntries === 'cpus') maxEntries = possibleCpus();
    else throw new InvalidArgumentError(`${nameLabel}: maxEntries is required`);
  }
  maxEntries = checkSize('maxEntries', maxEntries, nameLabel);

  if (info) {
    if (!satisfies(info.keySize, keySize)) {
      throw new InvalidArgumentError(
        `${nameLabel}: keySize must be ${describeRule(info.keySize)} for ${info.name} maps, got ${keySize}${
          'exactly' in info.keySize && info.keySize.exactly === 0 ? ' (this type has no keys)' : ''
        }`,
      );
    }
    if (!satisfies(info.valueSize, valueSize)) {
      throw new InvalidArgumentError(
        `${nameLabel}: valueSize must be ${describeRule(info.valueSize)} for ${info.name} maps, got ${valueSize}`,
      );
    }
    switch (info.maxEntries) {
      case 'zero':
        if (maxEntries !== 0) {
          throw new InvalidArgumentError(
            `${nameLabel}: maxEntries must be 0 for ${info.name} maps (they grow with their owners), got ${maxEntries}`,
          );
        }
        break;
      case 'ring': {
        const page = pageSize();
        if (!isPowerOfTwo(maxEntries) || maxEntries % page !== 0) {
          throw new InvalidArgumentError(
            `${nameLabel}: maxEntries is the ring size in bytes and must be a power of two and a multiple of the page size (${page}), got ${maxEntries}`,
          );
        }
        break;
      }
      default:
        if (maxEntries === 0)
          throw new InvalidArgumentError(`${nameLabel}: maxEntries must be greater than 0`);
    }
    if (info.name === 'lpm_trie' && keySize - 4 > 256) {
      throw new InvalidArgumentError(
        `${nameLabel}: LPM keys are a u32 prefix length plus 1..256 bytes of data`,
      );
    }
    flags |= info.requiredFlags;
    if (flags & F_MMAPABLE && !info.mmapable) {
      throw new InvalidArgumentError(`${nameLabel}: BPF_F_MMAPABLE is only for array and arena maps`);
    }
    if (info.name === 'bloom_filter') {
      const extra = spec.mapExtra === undefined ? 0n : BigInt(spec.mapExtra);
      if (extra < 0n || extra > 15n) {
        throw new InvalidArgumentError(
          `${nameLabel}: mapExtra is the number of hash functions, 0 (kernel default 5) to 15`,
        );
      }
    }
    if (info.needsInnerMap && spec.innerMap === undefined) {
      throw new InvalidArgumentError(
        `${nameLabel}: innerMap is required: a map (or map spec) like the ones this ${info.name} map will hold`,
      );
    }
    if (!info.needsInnerMap && spec.innerMap !== undefined) {
      throw new InvalidArgumentError(`${nameLabel}: innerMap is only for array_of_maps and hash_of_maps`);
    }
    if (
      info.needsBtf &&
      spec.btf &&
      (spec.btf.keyTypeId === undefined || spec.btf.valueTypeId === undefined)
    ) {
      throw new InvalidArgumentError(
        `${nameLabel}: ${info.name} maps need BTF for both key and value: btf: { fd, keyTypeId, valueTypeId } (or no btf, for an int key and a byte-array value)`,
      );
    }
    if (info.name === 'struct_ops' && spec.btf?.vmlinuxValueTypeId === undefined) {
      throw new NotSupportedError(`${label} without btf.vmlinuxValueTypeId`, info.note ?? '');
    }
    if ((flags & (F_RDONLY_PROG | F_WRONLY_PROG)) === (F_RDONLY_PROG | F_WRONLY_PROG)) {
      throw new InvalidArgumentError(
        `${nameLabel}: BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG exclude each other`,
      );
    }
  }

  let numaNode: number | undefined;
  if (spec.numaNode !== undefined) {
    numaNode = checkSize('numaNode', spec.numaNode, nameLabel);
    flags |= F_NUMA_NODE;
  }
  const name = spec.name ?? '';
  if (typeof name !== 'string' || name.length > 15 || !/^[A-Za-z0-9_.]*$/.test(name)) {
    throw new InvalidArgumentError(
      `map name must be at most 15 characters of [A-Za-z0-9_.], got ${JSON.stringify(name)}`,
    );
  }
  let mapExtra = 0n;
  if (spec.mapExtra !== undefined) {
    try {
      mapExtra = BigInt(spec.mapExtra);
    } catch {
      throw new InvalidArgumentError(`${nameLabel}: mapExtra must be an integer`);
    }
    if (mapExtra < 0n || mapExtra >= 1n << 64n)
      throw new InvalidArgumentError(`${nameLabel}: mapExtra must be a u64`);
  }
  const ifindex = spec.ifindex === undefined ? 0 : checkSize('ifindex', spec.ifindex, nameLabel);
  return {
    info,
    type: typeNumber,
    typeLabel: label,
    keySize,
    valueSize,
    maxEntries,
    flags: flags >>> 0,
    name,
    numaNode,
    mapExtra,
    btf: spec.btf,
    ifindex,
    keyCodec,
    valueCodec,
  };
}

function codecOrThrow(codec: CodecLike, what: string, label: string): Codec<unknown> {
  try {
    return resolveCodec(codec as Codec<unknown>);
  } catch (error) {
    throw new InvalidArgumentError(`${label}: ${what}: ${(error as Error).message}`);
  }
}
