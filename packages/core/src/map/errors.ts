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
