import { readFileSync } from 'node:fs';
import {
  isUnsupported,
  KernelRejectedError,
  KeyExistsError,
  KeyNotFoundError,
  MapFullError,
  NotSupportedError,
  PermissionError,
  translateSysError,
} from '../errors.ts';

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
