/**
 * Opening maps that already exist (`fromFd`, `fromPin`, `fromId`) and listing the system's maps:
 * getting an fd, making sure it is a map, and reading its shape from the kernel. `BpfMap` wraps
 * the fd this returns.
 */
import * as sys from '@ebpf/sys';
import type { CodecLike } from '../codec/codec.ts';
import { InvalidArgumentError, translateSysError } from '../errors.ts';
import { type MapInfo, mapInfo } from '../object-info.ts';
import { kindOfFd } from '../pin.ts';
import { listObjects } from '../system.ts';

/** Codecs to use for a map opened from an fd, a pin or an id (sizes come from the kernel). */
export interface OpenOptions {
  /** How to encode and decode keys (a codec or a name such as `'u32'`); raw bytes by default. */
  readonly key?: CodecLike;
  /** How to encode and decode values, like `key`. */
  readonly value?: CodecLike;
}

/** Options of `BpfMap.fromPin`: codecs, and whether to open the map read-only. */
export interface PinOpenOptions extends OpenOptions {
  /** Open with `BPF_F_RDONLY`: lookups work, updates throw (for maps pinned read-only or shared). */
  readonly readonly?: boolean;
}

/** A new fd on the map behind someone else's `fd` (they keep theirs). */
export function dupMapFd(fd: number): number {
  if (!Number.isInteger(fd) || fd < 0)
    throw new InvalidArgumentError(`fd must be an integer >= 0, got ${String(fd)}`);
  try {
    return sys.dup(fd);
  } catch (error) {
    throw translateSysError(error, `duplicating fd ${fd}`);
  }
}

/**
 * What the kernel says of the map behind `fd`, an fd the caller now owns; `fd` is closed when it is
 * not a map. `what` names it in errors ('fd 3', a pin path, 'map id 7').
 */
export function inspectMapFd(fd: number, what: string): MapInfo {
  try {
    const kind = kindOfFd(fd);
    if (kind !== 'map') {
      throw new InvalidArgumentError(
        `${what} is not a BPF map (it is ${kind ? `a BPF ${kind}` : 'another kind of file'})`,
      );
    }
    const info = mapInfo(fd);
    // Hot paths check sizes against the native per-fd cache: make sure this fd is in it.
    if (sys.mapSizes(fd) === null) sys.adoptMap(fd);
    return info;
  } catch (error) {
    sys.close(fd);
    throw error;
  }
}

/** `info()` of every map on the system (maps freed while listing are skipped). */
export function listMaps(): MapInfo[] {
  return listObjects('map', mapInfo);
}
