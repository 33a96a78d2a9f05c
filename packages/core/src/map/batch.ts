/**
 * The batch calls (BPF_MAP_*_BATCH): many elements per syscall. Map types without them, or kernels
 * that answer ENOTSUPP, fall back to one call per element; the answer is remembered per map type so
 * later calls go straight to the fallback.
 */
import * as sys from '@ebpf/sys';
import {
  BpfError,
  InvalidArgumentError,
  isUnsupported,
  KeyNotFoundError,
  NotSupportedError,
} from '../errors.ts';
import { featureTest, knownFeature } from '../internal/feature.ts';
import { MapBatchCursor } from './batch-cursor.ts';
import type { MapElements } from './elements.ts';
import { elementError } from './errors.ts';
import { requireKeys } from './guards.ts';
import type { BpfMap } from './map.ts';
import { type BatchCommand, batchOp } from './ops.ts';
import { type SetOptions, updateFlags } from './options.ts';

/** Options of the reading batch calls. */
export interface BatchReadOptions {
  /** Elements per kernel call (default 256; at most maxEntries). */
  readonly batchSize?: number;
  /** Continue a walk: one kernel call per `getBatch`, the cursor remembers where it stopped. */
  readonly cursor?: MapBatchCursor;
}

/** The reading batch commands. */
export type ReadCommand = 'lookup' | 'lookupAndDelete';

/** What the batch calls use of the map, including the single-element calls they fall back to. */
type BatchMap<K, V> = Pick<
  BpfMap<K, V>,
  | 'fd'
  | 'type'
  | 'typeName'
  | 'keySize'
  | 'valueBufferSize'
  | 'maxEntries'
  | 'keyCodec'
  | 'valueCodec'
  | 'set'
  | 'delete'
  | 'nextKeyInto'
  | 'deleteRaw'
>;

/** The feature-test name under which a map type's missing batch command is remembered. */
const batchFeature = (type: number, command: BatchCommand) => `map-batch:${type}:${command}`;

function batchSupported(type: number, command: BatchCommand): boolean {
  return knownFeature(batchFeature(type, command))?.status !== 'unsupported';
}

/** Whether `error` from a batch command means the type has none (remembered per map type). */
function batchMissing(
  type: number,
  el: MapElements<unknown, unknown>,
  error: unknown,
  command: BatchCommand,
): boolean {
  const e = error as { code?: string };
  if (isUnsupported(error) || (e?.code === 'EINVAL' && el.info && !el.info.batch)) {
    featureTest(batchFeature(type, command), () => ({
      status: 'unsupported',
      reason: `the kernel answered ${e?.code ?? 'ENOTSUPP'}`,
    }));
    return true;
  }
  return false;
}

/**
 * One batch read into caller buffers (`lookupBatchInto`): up to `count` entries, continuing where
 * `cursor` stopped. Throws `NotSupportedError` for map types without the command.
 */
export function readBatchInto<K, V>(
  map: BatchMap<K, V>,
  el: MapElements<K, V>,
  command: ReadCommand,
  cursor: MapBatchCursor,
  keys: Uint8Array,
  values: Uint8Array,
  count?: number,
): number {
  const fd = map.fd;
  const n = count ?? Math.floor(keys.length / Math.max(map.keySize, 1));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('count must be an integer >= 1');
  if (keys.length < n * map.keySize)
    throw new InvalidArgumentError(`keys must hold ${n} keys of ${map.keySize} bytes`);
  if (values.length < n * map.valueBufferSize) {
    throw new InvalidArgumentError(`values must hold ${n} values of ${map.valueBufferSize} bytes`);
  }
  if (cursor.done) return 0;
  try {
    const r = batchOp(command, fd, cursor.started ? cursor.token : null, cursor.token, keys, values, n, 0);
    cursor.started = true;
    if (r.done) cursor.done = true;
    return r.count;
  } catch (error) {
    if (batchMissing(map.type, el, error, command)) {
      throw new NotSupportedError(
        `batch ${command === 'lookup' ? 'lookup' : 'lookup-and-delete'} on ${map.typeName} maps`,
        'the kernel has no batch command for this map type',
        { cause: error },
      );
    }
    throw elementError(error, `batch ${command} on ${el.label}`, map.maxEntries);
  }
}

/** Raw key and value buffers for a decoding batch read, with views to decode through. */
interface RawBatch {
  readonly keys: Uint8Array;
  readonly values: Uint8Array;
  readonly keyView: DataView;
  readonly valueView: DataView;
}

/** Per map object: the raw buffers its decoding batch reads reuse (grown when a read wants more). */
const rawBatches = new WeakMap<object, RawBatch>();

function rawBatch<K, V>(map: BatchMap<K, V>, el: MapElements<K, V>, n: number): RawBatch {
  const found = rawBatches.get(el);
  if (found && found.keys.length >= n * map.keySize && found.values.length >= n * map.valueBufferSize) {
    return found;
  }
  const keys = new Uint8Array(new ArrayBuffer(Math.max(1, n * map.keySize)));
  const values = new Uint8Array(new ArrayBuffer(Math.max(1, n * map.valueBufferSize)));
  const made = { keys, values, keyView: new DataView(keys.buffer), valueView: new DataView(values.buffer) };
  rawBatches.set(el, made);
  return made;
}

/** Decodes entries [0, n) of `raw` into `keys[0..n)` and `values[0..n)`. */
function decodeBatch<K, V>(
  map: BatchMap<K, V>,
  el: MapElements<K, V>,
  raw: RawBatch,
  n: number,
  keys: K[],
  values: V[],
): void {
  const { keySize, valueBufferSize, keyCodec, valueCodec } = map;
  const { keyView, valueView } = raw;
  if (el.keyRaw) {
    for (let i = 0; i < n; i++) keys[i] = raw.keys.slice(i * keySize, (i + 1) * keySize) as K;
  } else {
    for (let i = 0; i < n; i++) keys[i] = keyCodec.read(keyView, i * keySize);
  }
  for (let i = 0; i < n; i++) values[i] = valueCodec.read(valueView, i * valueBufferSize);
}

/**
 * One batch read decoded into caller arrays (`getBatchInto`): up to `count` entries (default
 * `keys.length`) into `keys[0..n)` and `values[0..n)`. Throws `NotSupportedError` for map types
 * without the command, like `lookupBatchInto`.
 */
export function readBatchDecodedInto<K, V>(
  map: BatchMap<K, V>,
  el: MapElements<K, V>,
  command: ReadCommand,
  cursor: MapBatchCursor,
  keys: K[],
  values: V[],
  count?: number,
): number {
  if (!Array.isArray(keys) || !Array.isArray(values)) {
    throw new InvalidArgumentError('keys and values must be arrays (reuse them across calls)');
  }
  const n = count ?? keys.length;
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(`count must be an integer >= 1 (or keys.length), got ${n}`);
  }
  const raw = rawBatch(map, el, n);
  const got = readBatchInto(map, el, command, cursor, raw.keys, raw.values, n);
  decodeBatch(map, el, raw, got, keys, values);
  return got;
}

/** `getBatch` and `getAndDeleteBatch`: decoded entries, the whole map or one call's worth per cursor. */
export function readBatch<K, V>(
  map: BatchMap<K, V>,
  el: MapElements<K, V>,
  command: ReadCommand,
  options: BatchReadOptions,
): Array<[K, V]> {
  requireKeys(el.info, el.label, command === 'lookup' ? 'getBatch' : 'getAndDeleteBatch');
  const batchSize = options.batchSize ?? Math.min(256, Math.max(1, map.maxEntries));
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new InvalidArgumentError('batchSize must be an integer >= 1');
  const cursor = options.cursor ?? new MapBatchCursor(map.keySize);
  const out: Array<[K, V]> = [];
  if (batchSupported(map.type, command)) {
    const raw = rawBatch(map, el, batchSize);
    const keys: K[] = [];
    const values: V[] = [];
    try {
      do {
        const n = readBatchInto(map, el, command, cursor, raw.keys, raw.values, batchSize);
        decodeBatch(map, el, raw, n, keys, values);
        for (let i = 0; i < n; i++) out.push([keys[i] as K, values[i] as V]);
      } while (!cursor.done && options.cursor === undefined);
      return out;
    } catch (error) {
      if (!(error instanceof NotSupportedError) || cursor.started) throw error;
    }
  }
  return readOneByOne(map, el, command, options.cursor ? batchSize : Number.POSITIVE_INFINITY, cursor, out);
}

/** The fallback of `readBatch`: walk keys, one lookup (and delete) each, up to `limit` entries. */
function readOneByOne<K, V>(
  map: BatchMap<K, V>,
  el: MapElements<K, V>,
  command: ReadCommand,
  limit: number,
  cursor: MapBatchCursor,
  out: Array<[K, V]>,
): Array<[K, V]> {
  const key = new Uint8Array(new ArrayBuffer(map.keySize));
  const value = new Uint8Array(new ArrayBuffer(map.valueBufferSize));
  const vv = new DataView(value.buffer);
  if (command === 'lookupAndDelete') {
    // Deleting restarts the kernel's walk, so always take the first key.
    while (out.length < limit && map.nextKeyInto(null, key)) {
      if (sys.mapLookup(map.fd, key, value, 0))
        out.push([el.decodeKey(key.slice()), map.valueCodec.read(vv, 0)]);
      map.deleteRaw(key);
    }
    if (out.length < limit) cursor.done = true;
    cursor.started = true;
    return out;
  }
  let has = cursor.started
    ? cursor.lastKey !== undefined && map.nextKeyInto(cursor.lastKey, key)
    : map.nextKeyInto(null, key);
  cursor.started = true;
  while (has && out.length < limit) {
    if (sys.mapLookup(map.fd, key, value, 0))
      out.push([el.decodeKey(key.slice()), map.valueCodec.read(vv, 0)]);
    cursor.lastKey = key.slice();
    has = map.nextKeyInto(cursor.lastKey, key);
  }
  if (!has) cursor.done = true;
  return out;
}

/** `setBatch`: BPF_MAP_UPDATE_BATCH per `batchSize` entries, or `set()` each. */
export function updateBatch<K, V>(
  map: BatchMap<K, V>,
  el: MapElements<K, V>,
  entries: Iterable<readonly [K, V]>,
  options: (SetOptions & { readonly batchSize?: number }) | undefined,
): number {
  const fd = map.fd;
  requireKeys(el.info, el.label, 'setBatch');
  const flags = updateFlags(options);
  const list = Array.isArray(entries) ? (entries as ReadonlyArray<readonly [K, V]>) : [...entries];
  if (list.length === 0) return 0;
  if (batchSupported(map.type, 'update')) {
    const batchSize = Math.min(options?.batchSize ?? 4096, list.length);
    const keys = new Uint8Array(new ArrayBuffer(batchSize * map.keySize));
    const values = new Uint8Array(new ArrayBuffer(batchSize * map.valueBufferSize));
    const keyView = new DataView(keys.buffer);
    const valueView = new DataView(values.buffer);
    let written = 0;
    try {
      while (written < list.length) {
        const n = Math.min(batchSize, list.length - written);
        for (let i = 0; i < n; i++) {
          const [k, v] = list[written + i]!;
          el.writeKey(k, keys, keyView, i * map.keySize);
          el.writeValue(v, values, valueView, i * map.valueBufferSize);
        }
        const r = batchOp('update', fd, null, null, keys, values, n, flags);
        written += r.count;
        if (r.count < n) throw new BpfError(`batch update of ${el.label} stopped after ${written} entries`);
      }
      return written;
    } catch (error) {
      if (error instanceof InvalidArgumentError || error instanceof BpfError) throw error;
      if (!(written === 0 && batchMissing(map.type, el, error, 'update'))) {
        throw elementError(error, `batch update of ${el.label} (after ${written} entries)`, map.maxEntries);
      }
    }
  }
  for (const [k, v] of list) map.set(k, v, options);
  return list.length;
}

/**
 * `deleteBatch`: BPF_MAP_DELETE_BATCH per `batchSize` keys, or `delete()` each. Stops at the first
 * missing key with `KeyNotFoundError`, as the kernel does.
 */
export function deleteBatch<K, V>(
  map: BatchMap<K, V>,
  el: MapElements<K, V>,
  keys: Iterable<K>,
  options: { readonly batchSize?: number } | undefined,
): number {
  const fd = map.fd;
  requireKeys(el.info, el.label, 'deleteBatch');
  const list = Array.isArray(keys) ? (keys as ReadonlyArray<K>) : [...keys];
  if (list.length === 0) return 0;
  if (el.info?.fixedEntries) {
    throw new InvalidArgumentError(`deleteBatch: elements of ${el.label} always exist and cannot be deleted`);
  }
  if (batchSupported(map.type, 'delete')) {
    const batchSize = Math.min(options?.batchSize ?? 4096, list.length);
    const buf = new Uint8Array(new ArrayBuffer(batchSize * map.keySize));
    const view = new DataView(buf.buffer);
    let deleted = 0;
    try {
      while (deleted < list.length) {
        const n = Math.min(batchSize, list.length - deleted);
        for (let i = 0; i < n; i++) el.writeKey(list[deleted + i]!, buf, view, i * map.keySize);
        const r = batchOp('delete', fd, null, null, buf, null, n, 0);
        deleted += r.count;
        if (r.count < n && r.done) throw missingKey(el, deleted);
        if (r.count < n) throw new BpfError(`batch delete of ${el.label} stopped after ${deleted} keys`);
      }
      return deleted;
    } catch (error) {
      if (error instanceof BpfError) throw error;
      if (!(deleted === 0 && batchMissing(map.type, el, error, 'delete'))) {
        throw elementError(error, `batch delete from ${el.label} (after ${deleted} keys)`, map.maxEntries);
      }
    }
  }
  for (const [i, k] of list.entries()) if (!map.delete(k)) throw missingKey(el, i);
  return list.length;
}

/** `deleteBatch` found no element for `keys[index]`, having deleted the `index` keys before it. */
function missingKey(el: MapElements<unknown, unknown>, index: number): KeyNotFoundError {
  return new KeyNotFoundError(
    `deleteBatch on ${el.label}: keys[${index}] is not in the map; the ${index} keys before it were deleted, the rest were not`,
    { code: 'ENOENT' },
  );
}
