/**
 * What a map type allows from user space: the errors for calls its type cannot take (keys on a
 * queue, push() on a hash...), worded to point at the calls it can.
 */
import { InvalidArgumentError } from '../errors.ts';
import type { MapTypeInfo, MapTypeName } from './map-types.ts';

/** Throws unless the map has keys to address (queues, stacks, bloom filters and rings have none). */
export function requireKeys(info: MapTypeInfo | undefined, label: string, op: string): void {
  if (info?.keyless) {
    const hint =
      info.name === 'queue' || info.name === 'stack'
        ? 'use push(), pop() and peek()'
        : info.name === 'bloom_filter'
          ? 'use push() and has()'
          : 'it has no elements to address from user space';
    throw new InvalidArgumentError(`${op}: ${label} has no keys; ${hint}`);
  }
}

/** Throws unless the map is one of `kinds` (`push` is for queues, stacks and bloom filters). */
export function requireKind(
  info: MapTypeInfo | undefined,
  label: string,
  op: string,
  ...kinds: MapTypeName[]
): void {
  if (!info || !kinds.includes(info.name)) {
    throw new InvalidArgumentError(`${op}() is for ${kinds.join(' and ')} maps; this is a ${label}`);
  }
}
