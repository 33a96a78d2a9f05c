import { readFileSync } from 'node:fs';
import {
  InvalidArgumentError,
  isUnsupported,
  KernelRejectedError,
  KeyExistsError,
  KeyNotFoundError,
  MapFullError,
  NotSupportedError,
  PermissionError,
  translateSysError,
} from '../errors.ts';
import { kindOfFd } from '../pin.ts';
import type { FdValueKind } from './map-types.ts';

/** Words a failed element operation on a map for the user. `what`: 'updating hash map "x"'. */
export function elementError(error: unknown, what: string, maxEntries: number): Error {
  const code = (error as { code?: string } | undefined)?.code;
  const options = { cause: error };
  switch (code) {
    case 'EEXIST':
      return new KeyExistsError(`${what}: the key already exists (flags: 'noExist')`, options);
    case 'ENOENT':
      return new KeyNotFoundError(`${what}: no such key`, options);
    case 'E2BIG':
      return new MapFullError(
        `${what}: the map is full or the index is out of range (maxEntries ${maxEntries})`,
        options,
      );
    case 'EPERM':
    case 'EACCES':
      return new PermissionError(
        `${what}: not allowed (${code}): the map is frozen or read-only for user space (BPF_F_RDONLY), or this process lacks CAP_BPF`,
        options,
      );
    case 'EINVAL':
      return new KernelRejectedError(
        `${what}: the kernel refused the arguments (EINVAL): a flag this map type does not take, or a key or value it cannot hold`,
        options,
      );
    default:
      if (isUnsupported(error)) {
        return new NotSupportedError(what, 'this map type does not support it from user space', options);
      }
      return translateSysError(error, what);
  }
}

/**
 * Words a failed BPF_MAP_FREEZE of `label` (the map behind `fd`). The kernel answers EPERM to a
 * second freeze (a frozen map is read-only to the syscall) and EBUSY while the map is mapped
 * writable; its fdinfo tells whether it is frozen.
 */
export function freezeError(error: unknown, label: string, fd: number): Error {
  const code = (error as { code?: string } | undefined)?.code;
  const what = `freezing ${label}`;
  if ((code === 'EPERM' || code === 'EBUSY') && isFrozen(fd)) {
    return new KernelRejectedError(
      `${what}: it is already frozen (a map is frozen once, for good, and stays read-only for user space)`,
      { cause: error },
    );
  }
  if (code === 'EBUSY') {
    return new KernelRejectedError(
      `${what}: it cannot be frozen while it is mapped writable (memory(), or an mmap in another process): close the MapMemory first, or freeze before mapping`,
      { cause: error },
    );
  }
  return translateSysError(error, what);
}

/** Whether the map behind `fd` is frozen, from the `frozen:` line of its fdinfo. */
function isFrozen(fd: number): boolean {
  return /^frozen:\s*1$/m.test(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
}

/** What the kernel checks of an object stored in a map of programs or of maps, for messages. */
const fdRules: Partial<Record<FdValueKind, { noun: string; rule: string }>> = {
  prog: {
    noun: 'program',
    rule: 'a program array holds programs of one type (and one attach type): the first program stored, or a program using the array, sets it',
  },
  map: {
    noun: 'map',
    rule: "the inner map must match the outer map's inner map template: same type, key size, value size and flags (and max entries, unless the template has BPF_F_INNER_MAP)",
  },
};

/**
 * Words a failed update of a map whose values are fds of `holds` (`fd` is the value written):
 * an fd of the wrong kind of object is named as such, and a refused object gets the kernel's rule.
 */
export function fdValueError(
  error: unknown,
  what: string,
  holds: FdValueKind,
  fd: number,
  maxEntries: number,
): Error {
  const code = (error as { code?: string } | undefined)?.code;
  const rules = fdRules[holds];
  if (rules === undefined || (code !== 'EINVAL' && code !== 'EBADF'))
    return elementError(error, what, maxEntries);
  const kind = kindOfFd(fd);
  if (kind !== holds) {
    const actual = kind ? `a BPF ${kind === 'prog' ? 'program' : kind}` : 'not a BPF object';
    return new InvalidArgumentError(
      `${what}: it holds ${rules.noun}s, but the value (fd ${fd}) is ${actual}`,
      {
        cause: error,
      },
    );
  }
  return new KernelRejectedError(`${what}: the kernel refused the ${rules.noun} (fd ${fd}): ${rules.rule}`, {
    cause: error,
  });
}
