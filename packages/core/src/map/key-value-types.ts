/**
 * The key and value types a `BpfMap` gets from the spec it was created from (`create`) or the
 * options it was opened with (`fromPin`, `fromId`, `fromFd`). Types only: nothing here runs.
 */
import type { MapType } from '@ebpf/uapi';
import type { CodecType } from '../codec/codec.ts';
import type { LpmKey } from '../codec/lpm.ts';
import type { HasFd } from '../codec/per-cpu.ts';
import type { PerCpuMapTypeName } from './map-types.ts';
import type { MapCreateOptions } from './spec.ts';

/**
 * The key type of a map opened with `options` (`fromFd`, `fromPin`, `fromId`): its key codec's
 * type, else bytes. Pass type arguments instead (`fromPin<number, bigint>(...)`) to say more,
 * such as per-CPU values.
 */
export type OpenedKey<O> = O extends { readonly key: infer C } ? CodecType<C> : Uint8Array;
/** The value type of a map opened with `options`: its value codec's type, else bytes. */
export type OpenedValue<O> = O extends { readonly value: infer C } ? CodecType<C> : Uint8Array;

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
export type SpecElement<S extends MapCreateOptions> = S extends { readonly value: infer C }
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
export type SpecValue<S extends MapCreateOptions> = S['type'] extends PerCpuMapTypeName | PerCpuTypeNumber
  ? SpecElement<S>[]
  : SpecElement<S>;
/** What `set()` takes as a value: maps holding numbers (fd maps) also take objects owning an fd. */
export type SetValue<V> = V | (number extends V ? HasFd : never);

/** The key type of a map created from spec `S` (for bloom filters, the element type). */
export type SpecKey<S extends MapCreateOptions> = S extends { readonly key: infer C }
  ? CodecType<C>
  : S['type'] extends 'lpm_trie'
    ? LpmKey
    : S['type'] extends 'bloom_filter'
      ? SpecElement<S>
      : Uint8Array;
