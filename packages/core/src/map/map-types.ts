import { MapFlags, MapType } from '@ebpf/uapi';
import type { SizeRule } from './size-rule.ts';

/**
 * The table of map types: what each type requires of key size, value size, max entries and flags,
 * so a spec is checked before the syscall with an error that says what is wrong, and what each
 * type can do from user space (delete, iterate, batch, push/pop...). Sizes are `SizeRule`s
 * (`size-rule.ts`), re-exported here because `MapTypeInfo` is written in them.
 */
export type { SizeRule } from './size-rule.ts';

/** Map type names, as the kernel spells them without `BPF_MAP_TYPE_` and in lower case. */
export type MapTypeName =
  | 'hash'
  | 'array'
  | 'prog_array'
  | 'perf_event_array'
  | 'percpu_hash'
  | 'percpu_array'
  | 'stack_trace'
  | 'cgroup_array'
  | 'lru_hash'
  | 'lru_percpu_hash'
  | 'lpm_trie'
  | 'array_of_maps'
  | 'hash_of_maps'
  | 'devmap'
  | 'sockmap'
  | 'cpumap'
  | 'xskmap'
  | 'sockhash'
  | 'cgroup_storage'
  | 'reuseport_sockarray'
  | 'percpu_cgroup_storage'
  | 'queue'
  | 'stack'
  | 'sk_storage'
  | 'devmap_hash'
  | 'struct_ops'
  | 'ringbuf'
  | 'inode_storage'
  | 'task_storage'
  | 'bloom_filter'
  | 'user_ringbuf'
  | 'cgrp_storage'
  | 'arena';

/** Names of the per-CPU map types, whose values are one per possible CPU. */
export type PerCpuMapTypeName = 'percpu_hash' | 'percpu_array' | 'lru_percpu_hash' | 'percpu_cgroup_storage';

/** What a map type holds in its values when they are file descriptors of other objects. */
export type FdValueKind = 'map' | 'prog' | 'perf_event' | 'cgroup' | 'socket' | 'xsk';

/** What the library knows about one map type. */
export interface MapTypeInfo {
  readonly name: MapTypeName;
  /** `BPF_MAP_TYPE_*` number. */
  readonly type: number;
  /** The C name, for messages. */
  readonly cName: string;
  readonly keySize: SizeRule;
  readonly valueSize: SizeRule;
  /** 'any': > 0; 'zero': must be 0; 'ring': a power of two multiple of the page size; 'cpus': defaults to the possible CPU count. */
  readonly maxEntries: 'any' | 'zero' | 'ring' | 'cpus';
  /** Flags the kernel insists on; added when missing. */
  readonly requiredFlags: number;
  /** Values are one per possible CPU. */
  readonly perCpu: boolean;
  /** Keys are u32 indices 0..maxEntries-1. */
  readonly indexed: boolean;
  /** Every index always holds a value (plain arrays): no delete, `size` is `maxEntries`, clear zeroes. */
  readonly fixedEntries: boolean;
  /** Keyless (queue, stack, bloom filter, ring buffers): no get/set by key. */
  readonly keyless: boolean;
  /** Values written from user space are fds of this kind (lookups return ids). */
  readonly fdValues?: FdValueKind;
  /** Needs `innerMap`. */
  readonly needsInnerMap: boolean;
  /** Needs BTF key and value type ids. */
  readonly needsBtf: boolean;
  /** The kernel has BPF_MAP_*_BATCH for this type (a hint; the first call confirms). */
  readonly batch: boolean;
  /** BPF_F_MMAPABLE allowed. */
  readonly mmapable: boolean;
  /** The first kernel version with this type, for messages. */
  readonly since: string;
  /** Something to say when it cannot be created from a plain spec. */
  readonly note?: string;
}

const F_NO_PREALLOC = MapFlags.NoPrealloc;
const F_MMAPABLE = MapFlags.Mmapable;

const any: SizeRule = { min: 1 };
const zero: SizeRule = { exactly: 0 };
const u32: SizeRule = { exactly: 4 };
const fdOrExt: SizeRule = { oneOf: [4, 8] };

type Row = Partial<MapTypeInfo> & Pick<MapTypeInfo, 'name' | 'type' | 'since'>;

function row(r: Row): MapTypeInfo {
  return Object.freeze({
    cName: `BPF_MAP_TYPE_${r.name.toUpperCase()}`,
    keySize: any,
    valueSize: any,
    maxEntries: 'any',
    requiredFlags: 0,
    perCpu: false,
    indexed: false,
    fixedEntries: false,
    keyless: false,
    needsInnerMap: false,
    needsBtf: false,
    batch: false,
    mmapable: false,
    ...r,
  } as MapTypeInfo);
}

/** Every map type this library knows, by name. */
export const mapTypes: { readonly [N in MapTypeName]: MapTypeInfo } = Object.freeze({
  hash: row({ name: 'hash', type: MapType.Hash, since: '3.19', keySize: { min: 1, max: 512 }, batch: true }),
  array: row({
    name: 'array',
    type: MapType.Array,
    since: '3.19',
    keySize: u32,
    indexed: true,
    fixedEntries: true,
    batch: true,
    mmapable: true,
  }),
  prog_array: row({
    name: 'prog_array',
    type: MapType.ProgArray,
    since: '4.2',
    keySize: u32,
    valueSize: u32,
    indexed: true,
    fdValues: 'prog',
  }),
  perf_event_array: row({
    name: 'perf_event_array',
    type: MapType.PerfEventArray,
    since: '4.3',
    keySize: u32,
    valueSize: u32,
    maxEntries: 'cpus',
    indexed: true,
    fdValues: 'perf_event',
  }),
  percpu_hash: row({
    name: 'percpu_hash',
    type: MapType.PercpuHash,
    since: '4.6',
    keySize: { min: 1, max: 512 },
    valueSize: { min: 1, max: 32768 },
    perCpu: true,
    batch: true,
  }),
  percpu_array: row({
    name: 'percpu_array',
    type: MapType.PercpuArray,
    since: '4.6',
    keySize: u32,
    valueSize: { min: 1, max: 32768 },
    perCpu: true,
    indexed: true,
    fixedEntries: true,
    batch: true,
  }),
  stack_trace: row({
    name: 'stack_trace',
    type: MapType.StackTrace,
    since: '4.6',
    keySize: u32,
    valueSize: { min: 8, multipleOf: 8 },
  }),
  cgroup_array: row({
    name: 'cgroup_array',
    type: MapType.CgroupArray,
    since: '4.8',
    keySize: u32,
    valueSize: u32,
    indexed: true,
    fdValues: 'cgroup',
  }),
  lru_hash: row({
    name: 'lru_hash',
    type: MapType.LruHash,
    since: '4.10',
    keySize: { min: 1, max: 512 },
    batch: true,
  }),
  lru_percpu_hash: row({
    name: 'lru_percpu_hash',
    type: MapType.LruPercpuHash,
    since: '4.10',
    keySize: { min: 1, max: 512 },
    valueSize: { min: 1, max: 32768 },
    perCpu: true,
    batch: true,
  }),
  lpm_trie: row({
    name: 'lpm_trie',
    type: MapType.LpmTrie,
    since: '4.11',
    keySize: { min: 5, max: 260 },
    valueSize: { min: 1, max: 4096 - 5 - 4 },
    requiredFlags: F_NO_PREALLOC,
  }),
  array_of_maps: row({
    name: 'array_of_maps',
    type: MapType.ArrayOfMaps,
    since: '4.12',
    keySize: u32,
    valueSize: u32,
    indexed: true,
    fdValues: 'map',
    needsInnerMap: true,
    batch: true,
  }),
  hash_of_maps: row({
    name: 'hash_of_maps',
    type: MapType.HashOfMaps,
    since: '4.12',
    keySize: { min: 1, max: 512 },
    valueSize: u32,
    fdValues: 'map',
    needsInnerMap: true,
    batch: true,
  }),
  devmap: row({
    name: 'devmap',
    type: MapType.Devmap,
    since: '4.14',
    keySize: u32,
    valueSize: fdOrExt,
    indexed: true,
  }),
  sockmap: row({
    name: 'sockmap',
    type: MapType.Sockmap,
    since: '4.14',
    keySize: u32,
    valueSize: fdOrExt,
    fdValues: 'socket',
    indexed: true,
  }),
  cpumap: row({
    name: 'cpumap',
    type: MapType.Cpumap,
    since: '4.15',
    keySize: u32,
    valueSize: fdOrExt,
    indexed: true,
  }),
  xskmap: row({
    name: 'xskmap',
    type: MapType.Xskmap,
    since: '4.18',
    keySize: u32,
    valueSize: u32,
    fdValues: 'xsk',
    indexed: true,
  }),
  sockhash: row({
    name: 'sockhash',
    type: MapType.Sockhash,
    since: '4.18',
    valueSize: fdOrExt,
    fdValues: 'socket',
  }),
  cgroup_storage: row({
    name: 'cgroup_storage',
    type: MapType.CgroupStorage,
    since: '4.19',
    keySize: { oneOf: [8, 16] },
    maxEntries: 'zero',
  }),
  reuseport_sockarray: row({
    name: 'reuseport_sockarray',
    type: MapType.ReuseportSockarray,
    since: '4.19',
    keySize: u32,
    valueSize: fdOrExt,
    fdValues: 'socket',
    indexed: true,
  }),
  percpu_cgroup_storage: row({
    name: 'percpu_cgroup_storage',
    type: MapType.PercpuCgroupStorage,
    since: '4.20',
    keySize: { oneOf: [8, 16] },
    maxEntries: 'zero',
    perCpu: true,
  }),
  queue: row({ name: 'queue', type: MapType.Queue, since: '4.20', keySize: zero, keyless: true }),
  stack: row({ name: 'stack', type: MapType.Stack, since: '4.20', keySize: zero, keyless: true }),
  sk_storage: row({
    name: 'sk_storage',
    type: MapType.SkStorage,
    since: '5.2',
    keySize: u32,
    maxEntries: 'zero',
    requiredFlags: F_NO_PREALLOC,
    needsBtf: true,
  }),
  devmap_hash: row({
    name: 'devmap_hash',
    type: MapType.DevmapHash,
    since: '5.4',
    keySize: u32,
    valueSize: fdOrExt,
  }),
  struct_ops: row({
    name: 'struct_ops',
    type: MapType.StructOps,
    since: '5.6',
    keySize: u32,
    maxEntries: 'any',
    note: 'struct_ops maps take the vmlinux BTF id of the struct they implement (btf.vmlinuxValueTypeId); they come from loading a struct_ops object',
  }),
  ringbuf: row({
    name: 'ringbuf',
    type: MapType.Ringbuf,
    since: '5.8',
    keySize: zero,
    valueSize: zero,
    maxEntries: 'ring',
    keyless: true,
  }),
  inode_storage: row({
    name: 'inode_storage',
    type: MapType.InodeStorage,
    since: '5.10',
    keySize: u32,
    maxEntries: 'zero',
    requiredFlags: F_NO_PREALLOC,
    needsBtf: true,
  }),
  task_storage: row({
    name: 'task_storage',
    type: MapType.TaskStorage,
    since: '5.11',
    keySize: u32,
    maxEntries: 'zero',
    requiredFlags: F_NO_PREALLOC,
    needsBtf: true,
  }),
  bloom_filter: row({
    name: 'bloom_filter',
    type: MapType.BloomFilter,
    since: '5.16',
    keySize: zero,
    keyless: true,
  }),
  user_ringbuf: row({
    name: 'user_ringbuf',
    type: MapType.UserRingbuf,
    since: '6.1',
    keySize: zero,
    valueSize: zero,
    maxEntries: 'ring',
    keyless: true,
  }),
  cgrp_storage: row({
    name: 'cgrp_storage',
    type: MapType.CgrpStorage,
    since: '6.2',
    keySize: u32,
    maxEntries: 'zero',
    requiredFlags: F_NO_PREALLOC,
    needsBtf: true,
  }),
  arena: row({
    name: 'arena',
    type: MapType.Arena,
    since: '6.9',
    keySize: zero,
    valueSize: zero,
    requiredFlags: F_MMAPABLE,
    keyless: true,
    mmapable: true,
    note: 'maxEntries is the number of pages of the arena',
  }),
});

const byNumber = new Map<number, MapTypeInfo>(Object.values(mapTypes).map((t) => [t.type, t]));

/** Snake-case from the kernel's name: 'PercpuHash', 'percpu-hash', 'PERCPU_HASH' → 'percpu_hash'. */
function normalizeName(name: string): string {
  return name
    .replace(/^BPF_MAP_TYPE_/i, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
}

/** Looks a map type up by name (several spellings) or number; undefined when unknown. */
export function findMapType(type: string | number): MapTypeInfo | undefined {
  if (typeof type === 'number') return byNumber.get(type);
  if (typeof type !== 'string') return undefined;
  const name = normalizeName(type);
  return Object.hasOwn(mapTypes, name) ? mapTypes[name as MapTypeName] : undefined;
}

/** A name for messages: 'hash' or 'map type 42'. */
export function mapTypeLabel(type: number): string {
  return byNumber.get(type)?.name ?? `map type ${type}`;
}
