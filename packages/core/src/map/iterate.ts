/**
 * Walking a map's keys with BPF_MAP_GET_NEXT_KEY, safely while entries are deleted, and what is
 * built on the walk: entries, counting and clearing. Every kernel call goes through the map's own
 * element calls (its bound accessor), so walks share their checks and error wording.
 */
import { KernelRejectedError } from '../errors.ts';
import type { MapElements } from './elements.ts';
import { requireKeys } from './guards.ts';
import type { BpfMap } from './map.ts';

/** What the walks use of the map. */
type WalkedMap<K = unknown, V = unknown> = Pick<
  BpfMap<K, V>,
  | 'closed'
  | 'keySize'
  | 'valueBufferSize'
  | 'maxEntries'
  | 'valueCodec'
  | 'update'
  | 'deleteRaw'
  | 'nextKeyInto'
  | 'lookupInto'
  | 'pop'
>;

/** A key as a string, to remember it in a Set. */
function keyString(key: Uint8Array): string {
  let s = '';
  for (let i = 0; i < key.length; i++) s += String.fromCharCode(key[i]!);
  return s;
}

/**
 * Raw keys (fresh copies). Deleting the current key while walking makes the kernel restart from
 * the first key; keys already seen are then skipped, so every key present throughout the walk is
 * seen once and the walk ends. `op` names the caller in errors.
 */
export function* walkKeys(
  map: WalkedMap,
  el: MapElements<unknown, unknown>,
  op: string,
): Generator<Uint8Array, void, undefined> {
  requireKeys(el.info, el.label, op);
  const size = map.keySize;
  let current = new Uint8Array(new ArrayBuffer(size));
  let next = new Uint8Array(new ArrayBuffer(size));
  const indexed = el.info?.indexed ?? false;
  const seen = indexed ? undefined : new Set<string>();
  let skippedInARow = 0;
  let has = map.nextKeyInto(null, next);
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
    } else if (++skippedInARow > map.maxEntries + seen!.size) {
      return; // the map keeps changing under us: stop rather than walk in circles
    }
    if (map.closed) return;
    has = map.nextKeyInto(current, next);
  }
}

/** `[key, value]` pairs along the walk; keys that vanish before their lookup are skipped. */
export function* walkEntries<K, V>(
  map: WalkedMap<K, V>,
  el: MapElements<K, V>,
): Generator<[K, V], void, undefined> {
  const value = new Uint8Array(new ArrayBuffer(Math.max(map.valueBufferSize, 1))).subarray(
    0,
    map.valueBufferSize,
  );
  const view = new DataView(value.buffer);
  for (const raw of walkKeys(map, el, 'entries')) {
    if (map.lookupInto(raw, value)) yield [el.decodeKey(raw), map.valueCodec.read(view, 0)];
  }
}

/**
 * Removes every entry. Arrays are zeroed instead (their elements cannot be removed); queues and
 * stacks are drained.
 */
export function clearMap(map: WalkedMap, el: MapElements<unknown, unknown>): void {
  const info = el.info;
  if (info?.name === 'queue' || info?.name === 'stack') {
    while (map.pop() !== undefined);
    return;
  }
  requireKeys(info, el.label, 'clear');
  if (info?.fixedEntries || info?.indexed) {
    const zero = info.fixedEntries ? new Uint8Array(new ArrayBuffer(map.valueBufferSize)) : undefined;
    const key = new Uint8Array(new ArrayBuffer(4));
    const kv = new DataView(key.buffer);
    for (let i = 0; i < map.maxEntries; i++) {
      kv.setUint32(0, i, true);
      if (zero) {
        map.update(key, zero, 0);
        continue;
      }
      try {
        map.deleteRaw(key);
      } catch (error) {
        // Empty slots: ENOENT for most, EINVAL for socket maps.
        if (!(error instanceof KernelRejectedError)) throw error;
      }
    }
    return;
  }
  // Collect first, then delete: deleting while walking makes the kernel restart the walk.
  for (const key of [...walkKeys(map, el, 'clear')]) map.deleteRaw(key);
}
