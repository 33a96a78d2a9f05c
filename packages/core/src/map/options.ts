/**
 * The options of element calls, and how `set()`'s update flags are read: names, lists of names or
 * the kernel's `UpdateFlags` bits, checked and turned into the bits `BPF_MAP_UPDATE_ELEM` takes.
 */
import { UpdateFlags } from '@ebpf/uapi';
import { InvalidArgumentError } from '../errors.ts';

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

const updateFlagBits: Record<UpdateFlagName, number> = {
  any: UpdateFlags.Any,
  noExist: UpdateFlags.Noexist,
  exist: UpdateFlags.Exist,
  lock: UpdateFlags.FLock,
};
const updateFlagMask = UpdateFlags.Noexist | UpdateFlags.Exist | UpdateFlags.FLock;

function updateFlagBit(name: unknown): number {
  if (typeof name !== 'string' || !Object.hasOwn(updateFlagBits, name)) {
    throw new InvalidArgumentError(
      `flags must be 'any', 'noExist', 'exist' or 'lock' (or a list of them, or UpdateFlags bits), got ${JSON.stringify(name)}`,
    );
  }
  return updateFlagBits[name as UpdateFlagName];
}

/** The `UpdateFlags` bits `options` ask for (0 without options). */
export function updateFlags(options: SetOptions | undefined): number {
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
  if (options.lock) flags |= UpdateFlags.FLock;
  return flags;
}
